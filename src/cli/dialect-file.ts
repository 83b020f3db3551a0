import { DialectError, dialectFileOf } from '../dialect/loader.js';
import { UsageError } from './args.js';

/** The file a `dialect` subcommand's argument names; an unknown name is a usage error that lists the known. */
export async function dialectFileArgument(argument: string): Promise<string> {
  try {
    return await dialectFileOf(argument);
  } catch (error) {
    if (error instanceof DialectError) throw new UsageError(error.message);
    throw error;
  }
}
