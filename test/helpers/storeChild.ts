/**
 * A store in a process of its own, for tests of two processes sharing one
 * database: `node --import tsx test/helpers/storeChild.ts sqlite FILE` or
 * `... postgres URL`. Prints `ready`, then for each stdin line
 * `rotate SESSION FROM TO` prints `rotated true|false` (or `error MESSAGE`).
 */
import readline from 'node:readline';
import { createLogger } from '../../src/logging';
import { PostgresStore, SqliteStore, type Store } from '../../src/store';

async function open(kind: string, location: string): Promise<Store> {
	if (kind === 'sqlite') {
		return SqliteStore.open(location);
	}
	const logger = createLogger({ level: 'error', format: 'json', stream: process.stderr });
	return PostgresStore.open({ url: location, poolSize: 2, connectTimeoutMs: 5000, queryTimeoutMs: 10_000, startupTimeoutMs: 10_000 }, logger);
}

async function main(): Promise<void> {
	const [kind, location] = process.argv.slice(2);
	const store = await open(kind!, location!);
	process.stdout.write('ready\n');
	for await (const line of readline.createInterface({ input: process.stdin })) {
		const [verb, id, from, to] = line.split(' ');
		if (verb !== 'rotate') {
			continue;
		}
		try {
			process.stdout.write(`rotated ${await store.rotateSession(id!, from!, to!, Date.now() + 3_600_000)}\n`);
		} catch (error) {
			process.stdout.write(`error ${(error as Error).message}\n`);
		}
	}
	await store.close();
}

main().catch((error: unknown) => {
	process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
	process.exit(1);
});
