/** Checks of command-line values shared by the commands. */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { InputError, fileProblem } from '../service/errors.js';

/** A file named on the command line can be read: said before the store is opened, in words rather than errno. `what`: how to name it ("the register file"). */
export function checkReadable(file: string, what = ''): void {
  const name = what ? `${what} ${file}` : file;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new InputError(`Cannot read ${name}: ${fileProblem(err)}.`);
  }
  const dir = fstatSync(fd).isDirectory();
  closeSync(fd);
  if (dir) throw new InputError(`Cannot read ${name}: it is a directory.`);
}

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number from 0 up');
  return Number(value);
}
