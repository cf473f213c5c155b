/** Errors the shell turns into problem+json (API) or a plain message (CLI). */
export class InputError extends Error {
  readonly status: number;
  readonly errors: Array<{ path: string; message: string }>;
  constructor(message: string, errors: Array<{ path: string; message: string }> = [], status = 422) {
    super(message);
    this.name = 'InputError';
    this.status = status;
    this.errors = errors;
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class ForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/**
 * A decision this server cannot make safely for a reason of its set-up (not the store's reach):
 * answered 503 with the reason – a dialer does not call on it – rather than a guess.
 */
export class CannotDecideSafelyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CannotDecideSafelyError';
  }
}

/** The store could not be reached: answer 503, never a guess. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The consent store cannot be reached right now.', { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** Why a file the user named cannot be read or written, in words rather than an errno. */
export function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file or directory'
    : code === 'EISDIR'
      ? 'it is a directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'ENOSPC'
          ? 'the disk is full'
          : (err as Error).message;
}
