// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): its command line,
// as the Prisma 5.17 CLI uses it:
//   schema-engine --version                       -> "schema-engine-cli <engine commit>"
//   schema-engine [-d <schema.prisma>]...         -> JSON-RPC server on stdio
//   schema-engine cli --datasource <url> <cmd>    -> can-connect-to-database | create-database | drop-database
'use strict';

const ENGINE_COMMIT = '393aa359c9ad4a4bb28630fb5613f9c281cde053';
const VERSION_LINE = `schema-engine-cli ${ENGINE_COMMIT}`;
const CLI_COMMANDS = new Set(['can-connect-to-database', 'create-database', 'drop-database']);

class UsageError extends Error {}

function takeValue(argv, index, flag) {
  const value = argv[index + 1];
  if (value === undefined) throw new UsageError(`The argument '${flag}' requires a value but none was supplied`);
  return value;
}

function parseCliSubcommand(argv) {
  let datasource = null;
  let command = null;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--datasource') {
      datasource = takeValue(argv, i, arg);
      i += 1;
    } else if (arg.startsWith('--datasource=')) {
      datasource = arg.slice('--datasource='.length);
    } else if (CLI_COMMANDS.has(arg) && command === null) {
      command = arg;
    } else {
      throw new UsageError(`Found argument '${arg}' which wasn't expected, or isn't valid in this context`);
    }
  }
  if (datasource === null) throw new UsageError("The following required arguments were not provided: --datasource <datasource>");
  if (command === null) throw new UsageError('A subcommand is required: can-connect-to-database, create-database or drop-database');
  return { mode: 'cli', datasource, command };
}

/** argv without node and the script path. Throws UsageError on a bad command line. */
function parseArgs(argv) {
  const result = { mode: 'rpc', datamodels: [], previewFeatures: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--version' || arg === '-V') return { mode: 'version' };
    if (arg === '--help' || arg === '-h') return { mode: 'help' };
    if (arg === '-d' || arg === '--datamodels') {
      result.datamodels.push(takeValue(argv, i, arg));
      i += 1;
    } else if (arg.startsWith('--datamodels=')) {
      result.datamodels.push(arg.slice('--datamodels='.length));
    } else if (arg === '--enabled-preview-features') {
      result.previewFeatures = takeValue(argv, i, arg).split(',');
      i += 1;
    } else if (arg === 'cli') {
      return Object.assign(parseCliSubcommand(argv.slice(i + 1)), { datamodels: result.datamodels });
    } else {
      throw new UsageError(`Found argument '${arg}' which wasn't expected, or isn't valid in this context`);
    }
  }
  return result;
}

const HELP = `${VERSION_LINE}
TEST-ONLY stand-in for Prisma's schema engine (PostgreSQL only).

USAGE:
    schema-engine.js [OPTIONS] [SUBCOMMAND]

OPTIONS:
    -d, --datamodels <FILE>...    List of paths to the Prisma schema files
    -h, --help                    Prints help information
    -V, --version                 Prints version information

SUBCOMMANDS:
    cli    Doesn't start a server, but allows running specific commands against Prisma
`;

module.exports = { parseArgs, UsageError, ENGINE_COMMIT, VERSION_LINE, HELP };
