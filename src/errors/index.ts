export { ERROR_CODES, type ErrorCode, type ErrorSource } from './codes.ts';
export { GatewayError, isGatewayError, toGatewayError, type GatewayErrorOptions } from './gateway-error.ts';
export { toProblem, problemBody, PROBLEM_CONTENT_TYPE, type ProblemDocument } from './problem.ts';
