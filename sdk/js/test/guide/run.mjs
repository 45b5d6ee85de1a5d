// Runs one snippet file (argv[2]) as a module and prints how it ended as one JSON line, so the
// test can tell an IntajValidationError from any other failure.
import { pathToFileURL } from 'node:url';
import { IntajError, IntajValidationError } from 'intaj-sdk';

try {
  await import(pathToFileURL(process.argv[2]).href);
  console.log(JSON.stringify({ ok: true }));
} catch (error) {
  console.log(
    JSON.stringify({
      ok: false,
      name: error?.name,
      code: error?.code,
      status: error?.status,
      message: error?.message,
      isIntajError: error instanceof IntajError,
      isValidationError: error instanceof IntajValidationError,
    }),
  );
}
