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
