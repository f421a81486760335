import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { freshDatabase, startPostgres, testPostgres, type PostgresServer } from '../helpers/postgres';

/** A connected client that records, rather than throws, the errors of a dropped connection. */
async function connect(url: string): Promise<Client & { errors: Error[] }> {
	const client = Object.assign(new Client({ connectionString: url }), { errors: [] as Error[] });
	client.on('error', (error) => client.errors.push(error));
	await client.connect();
	return client;
}

/** The error a new connection meets, or undefined when it connects. */
async function connectError(url: string): Promise<NodeJS.ErrnoException | undefined> {
	const client = new Client({ connectionString: url });
	try {
		await client.connect();
		await client.end();
		return undefined;
	} catch (error) {
		return error as NodeJS.ErrnoException;
	}
}

describe("the run's PostgreSQL server (test/globalSetup.js) and a fresh database on it", () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let client: Client;

	beforeAll(async () => {
		db = await freshDatabase();
		client = await connect(db.url);
	});

	afterAll(async () => {
		await client?.end();
		await db?.drop();
	});

	test('stores and returns non-ASCII text as it was, in a UTF8 database', async () => {
		const text = 'Émile Zoë, Łódź, 日本語, 🎙️';
		await client.query('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
		await client.query('INSERT INTO notes (body) VALUES ($1)', [text]);
		const { rows } = await client.query<{ body: string; chars: number }>('SELECT body, length(body) AS chars FROM notes');
		expect(rows).toEqual([{ body: text, chars: [...text].length }]);
		expect((await client.query('SHOW server_encoding')).rows[0]).toEqual({ server_encoding: 'UTF8' });
	});

	test("lower('ÉMILE') is 'émile' (LC_CTYPE C.UTF-8), and text sorts by code point (LC_COLLATE C)", async () => {
		const { rows: [cluster] } = await client.query(
			"SELECT lower('ÉMILE') AS lower, upper('émile') AS upper, current_setting('lc_ctype') AS ctype, current_setting('lc_collate') AS collate");
		expect(cluster).toEqual({ lower: 'émile', upper: 'ÉMILE', ctype: 'C.UTF-8', collate: 'C' });
		const { rows } = await client.query<{ x: string }>("SELECT x FROM (VALUES ('é'), ('b'), ('É'), ('B'), ('a'), ('Z')) AS t(x) ORDER BY x");
		expect(rows.map((r) => r.x)).toEqual(['B', 'Z', 'a', 'b', 'É', 'é']);
	});

	test('databases are unique and separate; a dropped one is gone; unsafe names and system databases are refused', async () => {
		const server = testPostgres();
		const [a, b] = await Promise.all([server.createDatabase(), server.createDatabase()]);
		expect(a).not.toBe(b);
		expect(new URL(a).port).toBe(String(server.port));
		await server.dropDatabase(a);
		await server.dropDatabase(a);
		expect((await connectError(a))?.message).toMatch(/database "switchyard_test_\w+" does not exist/);
		// WITH (FORCE): a session still open does not keep the database.
		const open = await connect(b);
		await server.dropDatabase(b);
		await expect(open.query('SELECT 1')).rejects.toThrow();
		await open.end().catch(() => undefined);
		await expect(server.createDatabase('x"; DROP DATABASE postgres; --')).rejects.toThrow(/database name/);
		await expect(server.dropDatabase(server.url)).rejects.toThrow(/will not drop postgres/);
	});

	test('a run without that server fails PostgreSQL tests, saying why', async () => {
		const saved = process.env.SWITCHYARD_TEST_PG_URL;
		delete process.env.SWITCHYARD_TEST_PG_URL;
		process.env.SWITCHYARD_TEST_PG_MISSING = 'globalSetup found no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql';
		try {
			expect(() => testPostgres()).toThrow('no PostgreSQL for this test run: globalSetup found no /usr/lib/postgresql/*/bin/initdb');
			await expect(freshDatabase()).rejects.toThrow(/^no PostgreSQL for this test run/);
			delete process.env.SWITCHYARD_TEST_PG_MISSING;
			expect(() => testPostgres()).toThrow('no PostgreSQL for this test run: SWITCHYARD_TEST_PG_URL is not set');
		} finally {
			process.env.SWITCHYARD_TEST_PG_URL = saved;
			delete process.env.SWITCHYARD_TEST_PG_MISSING;
		}
	});
});

describe('a server of its own (startPostgres): stop, start, kill, destroy', () => {
	let server: PostgresServer;
	let url: string;

	beforeAll(async () => {
		server = await startPostgres();
		url = await server.createDatabase();
	});

	afterAll(async () => {
		await server?.destroy();
	});

	test('listens on a loopback port off 5432, with password authentication', async () => {
		expect(server.url).toBe(`postgres://switchyard:${new URL(server.url).password}@127.0.0.1:${server.port}/postgres`);
		expect(server.port).not.toBe(5432);
		const wrong = new URL(url);
		wrong.password = 'wrong';
		expect((await connectError(wrong.toString()))?.message).toMatch(/password authentication failed for user "switchyard"/);
		await expect(startPostgres({ port: 5432 })).rejects.toThrow(/5432/);
	});

	test('stop() ends sessions and refuses connections; start() serves the same data on the same port', async () => {
		const client = await connect(url);
		await client.query('CREATE TABLE t (v text)');
		await client.query("INSERT INTO t VALUES ('before stop')");
		const port = server.port;
		await server.stop();
		expect(server.running).toBe(false);
		await expect(client.query('SELECT 1')).rejects.toThrow();
		expect((await connectError(url))?.code).toBe('ECONNREFUSED');
		await server.start();
		expect(server.port).toBe(port);
		const again = await connect(url);
		expect((await again.query('SELECT v FROM t')).rows).toEqual([{ v: 'before stop' }]);
		await again.end();
		await client.end().catch(() => undefined);
	});

	test('kill() SIGKILLs the postmaster and its backends; start() recovers what was committed', async () => {
		const client = await connect(url);
		await client.query("INSERT INTO t VALUES ('before kill')");
		const postmaster = Number(fs.readFileSync(path.join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
		const { rows: [backend] } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
		await server.kill();
		for (const pid of [postmaster, backend!.pid]) {
			const state = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
			expect([pid, state]).toEqual([pid, expect.stringMatching(/^(gone|Z)$/)]);
		}
		await expect(client.query('SELECT 1')).rejects.toThrow();
		expect((await connectError(url))?.code).toBe('ECONNREFUSED');
		await server.start();
		const again = await connect(url);
		expect((await again.query('SELECT v FROM t ORDER BY v')).rows).toEqual([{ v: 'before kill' }, { v: 'before stop' }]);
		await again.end();
		await client.end().catch(() => undefined);
		expect(fs.readFileSync(path.join(server.dir, 'postgres.log'), 'utf8')).toMatch(/not properly shut down; automatic recovery in progress/);
	});

	test('destroy() stops it and removes its directory; twice is harmless; it does not start again', async () => {
		await server.destroy();
		expect(fs.existsSync(server.dir)).toBe(false);
		expect((await connectError(url))?.code).toBe('ECONNREFUSED');
		await server.destroy();
		await expect(server.start()).rejects.toThrow(/destroyed/);
	});
});
