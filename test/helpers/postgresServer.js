// A throwaway PostgreSQL server for tests, from Debian's postgresql package:
// initdb in a fresh temporary directory, pg_ctl to start and stop it.
//
// Plain CommonJS so that jest's globalSetup (run without ts-jest) and the
// TypeScript helpers (test/helpers/postgres.ts) share it; its types are in
// postgresServer.d.ts. It only controls the process: databases and the
// run's shared server are postgres.ts's business.
'use strict';

const { execFile, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { alive, killWithChildren, signal, startOnFreePort, stopAndRemove, tail, untilDead } = require('./processes');

/** The admin URL of the run's one server, set by test/globalSetup.js. */
const PG_URL_ENV = 'SWITCHYARD_TEST_PG_URL';
/** Why the run has no server, set by test/globalSetup.js instead of PG_URL_ENV. */
const PG_MISSING_ENV = 'SWITCHYARD_TEST_PG_MISSING';
/** A directory holding initdb, pg_ctl and postgres, to use instead of Debian's. */
const PG_BIN_ENV = 'SWITCHYARD_TEST_PG_BIN';

const DEBIAN_ROOT = '/usr/lib/postgresql';
const USER = 'switchyard';
/**
 * Where a server's port is drawn from: below Linux's ephemeral ports
 * (32768-60999, where port-0 servers land), apart from the media ports (40000,
 * and 42000-57999 of test/helpers/ports.ts), never 5432.
 */
const PORTS = { from: 20000, to: 31999 };

/**
 * The directory of initdb and pg_ctl: $SWITCHYARD_TEST_PG_BIN, else the newest
 * /usr/lib/postgresql/VERSION/bin (postgresql-15 on bookworm). `missing` says
 * what was looked for when there is none.
 * @returns {{ bin: string } | { missing: string }}
 */
function findPostgresBin() {
	const given = process.env[PG_BIN_ENV];
	if (given) {
		return fs.existsSync(path.join(given, 'initdb')) ? { bin: given } : { missing: `no ${path.join(given, 'initdb')} (${PG_BIN_ENV})` };
	}
	const versions = fs.existsSync(DEBIAN_ROOT) ? fs.readdirSync(DEBIAN_ROOT).filter((v) => /^\d+$/.test(v)) : [];
	const bin = versions
		.sort((a, b) => Number(b) - Number(a))
		.map((v) => path.join(DEBIAN_ROOT, v, 'bin'))
		.find((dir) => fs.existsSync(path.join(dir, 'initdb')));
	return bin ? { bin } : { missing: `no ${DEBIAN_ROOT}/*/bin/initdb` };
}

/**
 * One PostgreSQL server: a data directory and, while running, its postmaster
 * on 127.0.0.1:port. It owns its temporary directory: destroy() removes it.
 */
class PostgresProcess {
	#bin;
	#dir;
	#password;
	#port;
	#running = false;
	#destroyed = false;

	#listen;

	/** @param {{ bin: string; dir: string; password: string; port: number; alsoOn?: string }} init */
	constructor({ bin, dir, password, port, alsoOn }) {
		this.#bin = bin;
		this.#dir = dir;
		this.#password = password;
		this.#port = port;
		this.#listen = alsoOn ? `127.0.0.1,${alsoOn}` : '127.0.0.1';
	}

	/** The superuser's URL of the `postgres` database. */
	get url() {
		return `postgres://${USER}:${this.#password}@127.0.0.1:${this.#port}/postgres`;
	}

	get port() {
		return this.#port;
	}

	/** The temporary directory: data/ (the cluster) and postgres.log. */
	get dir() {
		return this.#dir;
	}

	get running() {
		return this.#running;
	}

	get #data() {
		return path.join(this.#dir, 'data');
	}

	get #log() {
		return path.join(this.#dir, 'postgres.log');
	}

	/**
	 * Starts the postmaster on the same port and data directory (crash recovery
	 * first after kill()); resolves once it accepts connections. Throws with the
	 * log's tail when it does not start.
	 */
	async start() {
		if (this.#destroyed) {
			throw new Error(`postgres server in ${this.#dir} was destroyed`);
		}
		if (this.#running) {
			return;
		}
		// NOTE: no Unix socket (nothing of ours in /var/run/postgresql), TCP on
		// loopback only. fsync=off: only an operating-system crash loses what was
		// written, not a postmaster killed by kill(), so crash tests stay honest.
		const settings = `-c listen_addresses=${this.#listen} -c port=${this.#port} -c unix_socket_directories='' -c fsync=off`;
		const result = await run(this.#bin, 'pg_ctl', ['start', '-w', '-D', this.#data, '-l', this.#log, '-o', settings], this.#dir);
		if (result.code !== 0) {
			throw new Error(`postgres did not start on 127.0.0.1:${this.#port} (pg_ctl: ${result.code}): ${result.output.trim()}\n` +
				`--- ${this.#log}, last lines ---\n${tail(this.#log, 20)}`);
		}
		this.#running = true;
	}

	/** Stops the postmaster (fast shutdown: sessions are ended); keeps the data directory. */
	async stop() {
		if (!this.#running) {
			return;
		}
		const result = await run(this.#bin, 'pg_ctl', ['stop', '-w', '-m', 'fast', '-D', this.#data], this.#dir);
		if (result.code !== 0 && this.#postmasterPid() !== undefined) {
			throw new Error(`pg_ctl stop failed (${result.code}): ${result.output.trim()}`);
		}
		this.#running = false;
	}

	/**
	 * SIGKILLs the postmaster and its children, as a crash would, and resolves
	 * when they are dead. start() then recovers from the write-ahead log.
	 */
	async kill() {
		const left = await untilDead(this.killSync(), 10_000);
		if (left.length > 0) {
			throw new Error(`postgres processes ${left.join(', ')} outlived SIGKILL`);
		}
		// NOTE: the init of some containers reaps orphans late, and a zombie's pid
		// still answers kill(pid, 0): postgres would take it for a live postmaster
		// holding postmaster.pid and refuse to start. The processes are dead, so
		// the lock file is stale.
		fs.rmSync(path.join(this.#data, 'postmaster.pid'), { force: true });
	}

	/**
	 * The signals of kill(), without waiting: for a process about to exit.
	 * Returns the pids it signalled.
	 * @returns {number[]}
	 */
	killSync() {
		const pid = this.#postmasterPid();
		this.#running = false;
		if (pid === undefined || !alive(pid)) {
			return [];
		}
		// NOTE: stopped first, so that it forks no backend between the listing
		// of its children and their SIGKILL. Its children each have their own
		// session (postgres calls setsid), so a process group would not do.
		signal(pid, 'SIGSTOP');
		return killWithChildren(pid);
	}

	/** Stops the server if it runs (SIGKILL if it will not stop) and removes its directory. Idempotent. */
	async destroy() {
		if (this.#destroyed) {
			return;
		}
		await stopAndRemove(this, this.#dir);
		this.#destroyed = true;
	}

	/** @returns {number | undefined} */
	#postmasterPid() {
		try {
			const pid = Number(fs.readFileSync(path.join(this.#data, 'postmaster.pid'), 'utf8').split('\n')[0]);
			return pid > 0 ? pid : undefined;
		} catch {
			return undefined;
		}
	}
}

/**
 * initdb in a fresh temporary directory (under `options.dir`, default
 * os.tmpdir()) and starts the server on `options.port`, or on a free port of
 * 20000-31999 (tried again on another when it is taken meanwhile).
 *
 * The cluster: UTF8, LC_CTYPE C.UTF-8 and LC_COLLATE C. C.UTF-8 gives lower()
 * and upper() Unicode case mapping (glibc's, no language rules); C sorts by
 * byte, which for UTF-8 is code point order, the same on every machine and
 * glibc version. Password authentication (scram-sha-256) for superuser
 * `switchyard` with a random password, over TCP too. With `alsoOn`, it
 * listens on that address of this host too and takes clients of its /24 (a
 * bridge of the benchmark's network namespaces, scripts/scaling/hosts.ts).
 * @param {{ dir?: string; port?: number; alsoOn?: string }} [options]
 * @returns {Promise<PostgresProcess>}
 */
async function startPostgresProcess(options = {}) {
	const found = findPostgresBin();
	if (!('bin' in found)) {
		throw new Error(`cannot start PostgreSQL: ${found.missing}; apt-get install postgresql`);
	}
	if (options.port === 5432) {
		throw new Error('port 5432 belongs to the system PostgreSQL: tests keep off it');
	}
	const dir = await fs.promises.mkdtemp(path.join(options.dir ?? os.tmpdir(), 'switchyard-pg-'));
	try {
		const owner = asRoot() ? postgresUser() : undefined;
		if (owner) {
			await fs.promises.chown(dir, owner.uid, owner.gid);
		}
		const password = crypto.randomBytes(18).toString('hex');
		const pwfile = path.join(dir, 'pwfile');
		await fs.promises.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
		if (owner) {
			await fs.promises.chown(pwfile, owner.uid, owner.gid);
		}
		const initdb = await run(found.bin, 'initdb', ['-D', path.join(dir, 'data'), '-U', USER, `--pwfile=${pwfile}`,
			'--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--lc-collate=C', '--no-sync', '--no-instructions'], dir);
		await fs.promises.rm(pwfile);
		if (initdb.code !== 0) {
			throw new Error(`initdb failed (${initdb.code}): ${initdb.output.trim()}`);
		}
		if (options.alsoOn !== undefined) {
			if (!net.isIPv4(options.alsoOn)) {
				throw new Error(`alsoOn: expected an IPv4 address, got ${JSON.stringify(options.alsoOn)}`);
			}
			const subnet = `${options.alsoOn.split('.').slice(0, 3).join('.')}.0/24`;
			await fs.promises.appendFile(path.join(dir, 'data', 'pg_hba.conf'), `host all all ${subnet} scram-sha-256\n`);
		}
		return await startOnFreePort({ port: options.port, range: PORTS, taken: /could not bind|Address already in use/ },
			(port) => new PostgresProcess({ bin: found.bin, dir, password, port, alsoOn: options.alsoOn }));
	} catch (error) {
		fs.rmSync(dir, { recursive: true, force: true });
		throw error;
	}
}

/** PostgreSQL refuses to run as root: as root, its programs run as user postgres. */
function asRoot() {
	return process.getuid?.() === 0;
}

function postgresUser() {
	const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
	return { uid: id('-u'), gid: id('-g') };
}

/**
 * Runs one of PostgreSQL's programs (as postgres when root) in `cwd`, without
 * the caller's PG* variables.
 * @returns {Promise<{ code: number; output: string }>}
 */
function run(bin, program, args, cwd) {
	const file = path.join(bin, program);
	const [command, argv] = asRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
	const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')));
	return new Promise((resolve) => {
		execFile(command, argv, { cwd, env, encoding: 'utf8' }, (error, stdout, stderr) => {
			if (!error) {
				resolve({ code: 0, output: `${stdout}${stderr}` });
			} else if (typeof error.code === 'number') {
				resolve({ code: error.code, output: `${stdout}${stderr}` });
			} else {
				// It did not run (ENOENT), or a signal ended it.
				resolve({ code: -1, output: `${stdout}${stderr}${error.message}` });
			}
		});
	});
}

module.exports = { PG_URL_ENV, PG_MISSING_ENV, PG_BIN_ENV, PostgresProcess, findPostgresBin, startPostgresProcess };
