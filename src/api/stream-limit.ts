import { Transform } from 'node:stream';

/** Passes a request body through, failing with 413 once it has brought more than `max` bytes (`what` names the limit). */
export function byteLimit(max: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(Object.assign(new Error(`${what} is larger than ${max} bytes.`), { statusCode: 413 }));
      else done(null, chunk);
    },
  });
}

/**
 * Passes a request body through, failing with 408 when nothing has arrived for `ms`: a client that
 * stopped sending must not keep its upload – and the server's shutdown – waiting for ever.
 */
export function idleLimit(ms: number, what: string): Transform {
  let timer: NodeJS.Timeout | undefined;
  const stream: Transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      arm();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(err, done) {
      clearTimeout(timer);
      done(err);
    },
  });
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stream.destroy(Object.assign(new Error(`${what} stopped arriving: nothing came for ${Math.round(ms / 1000)} s.`), { statusCode: 408 })), ms);
    timer.unref();
  };
  arm();
  return stream;
}
