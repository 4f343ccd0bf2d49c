import { PassThrough, type Readable } from 'node:stream';

const ignore = (): void => {};

/**
 * A request body that can be sent again. The client body is read once and streamed to the current
 * attempt's sink as it arrives (no waiting for the whole body); the chunks are also kept while
 * their total stays ≤ `max`, so a retry gets a fresh sink that replays them and then continues
 * with whatever is still arriving. Past `max` the copy is dropped and the body is not replayable.
 */
export class ReplayBody {
  #chunks: Buffer[] = [];
  #size = 0;
  #overflow = false;
  #ended = false;
  #error: Error | undefined;
  #sink: PassThrough | undefined;
  #started = false;

  constructor(
    private readonly source: Readable,
    private readonly max: number,
  ) {}

  /** Whether a new attempt can be given the whole body (so far all of it was kept). */
  get replayable(): boolean {
    return !this.#overflow && this.#error === undefined;
  }

  /** A fresh body stream for the next attempt; the previous attempt's sink gets no more data. */
  attach(): Readable {
    const previous = this.#sink;
    if (previous !== undefined) previous.removeListener('drain', this.onDrain);
    const sink = new PassThrough();
    // A client abort destroys the sink with the error; the upstream client may not listen (yet, or
    // any more: an abandoned attempt), and an unheard stream error would crash the process.
    sink.on('error', ignore);
    this.#sink = sink;
    for (const chunk of this.#chunks) sink.write(chunk);
    if (this.#error !== undefined) sink.destroy(this.#error);
    else if (this.#ended) sink.end();
    if (!this.#started) {
      this.#started = true;
      const source = this.source;
      source.on('data', this.onData);
      source.once('end', this.onEnd);
      source.on('error', this.onError);
    } else this.source.resume();
    return sink;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (!this.#overflow) {
      this.#size += chunk.length;
      if (this.#size > this.max) {
        this.#overflow = true;
        this.#chunks = [];
      } else this.#chunks.push(chunk);
    }
    const sink = this.#sink!;
    if (sink.destroyed) return;
    if (!sink.write(chunk)) {
      this.source.pause();
      sink.once('drain', this.onDrain);
    }
  };

  private readonly onDrain = (): void => {
    this.source.resume();
  };

  private readonly onEnd = (): void => {
    this.#ended = true;
    const sink = this.#sink!;
    if (!sink.destroyed) sink.end();
  };

  private readonly onError = (error: Error): void => {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.#chunks = [];
    // The upstream call must fail too rather than see a clean end of body.
    this.#sink?.destroy(error);
  };
}
