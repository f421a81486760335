/**
 * `npm run store:copy -- SQLITE_FILE`: copies a node's SQLite store into the
 * PostgreSQL database of the effective config's store.url (env
 * SWITCHYARD_STORE_URL), which must hold no account yet; prints the rows
 * copied per table. Stop the node that uses the file first. The database is
 * named without its password (describeUrl), in the output and in errors.
 */
import { ConfigError, loadConfig } from './config';
import { copySqliteToPostgres, postgresOptions } from './store';
import { describeUrl } from './util';

const USAGE = 'usage: npm run store:copy -- SQLITE_FILE';

async function main(argv: string[]): Promise<void> {
	const [file, ...rest] = argv;
	if (!file || rest.length > 0 || file.startsWith('-')) {
		throw new Error(USAGE);
	}
	const options = postgresOptions(loadConfig().store);
	if (!options) {
		throw new Error('store.url is not set: name the PostgreSQL database to copy into with store.url or SWITCHYARD_STORE_URL');
	}
	const counts = await copySqliteToPostgres(file, options).catch((error: unknown) => {
		throw new Error(withoutPassword((error as Error).message, options.url), { cause: error });
	});
	const lines = Object.entries(counts).map(([table, rows]) => `  ${table}: ${rows}\n`);
	process.stdout.write(`copied ${file} to ${describeUrl(options.url)}\n${lines.join('')}`);
}

/** `message` without the password of `url`, should an error from the database or the driver quote it. */
function withoutPassword(message: string, url: string): string {
	const encoded = URL.canParse(url) ? new URL(url).password : '';
	if (!encoded) {
		return message;
	}
	let decoded = encoded;
	try {
		decoded = decodeURIComponent(encoded);
	} catch {
		// Not percent-encoding: the password is as written.
	}
	return message.replaceAll(encoded, '[redacted]').replaceAll(decoded, '[redacted]');
}

main(process.argv.slice(2)).catch((error: unknown) => {
	const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
	process.stderr.write(`switchyard store:copy: ${message}\n`);
	process.exit(1);
});
