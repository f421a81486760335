// A throwaway Redis server for tests, from Debian's redis-server package: a
// child process of ours (daemonize no) with its config file and log in a fresh
// temporary directory, password required, nothing persisted.
//
// Plain CommonJS so that jest's globalSetup (run without ts-jest) and the
// TypeScript helpers (test/helpers/redis.ts) share it; its types are in
// redisServer.d.ts. It only controls the process: key prefixes and the run's
// shared server are redis.ts's business. It speaks just enough RESP to see
// that the server answers, so that it needs no Redis client package.
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { killWithChildren, signal, startOnFreePort, stopAndRemove, untilDead } = require('./processes');

/** The URL of the run's one server, set by test/globalSetup.js. */
const REDIS_URL_ENV = 'SWITCHYARD_TEST_REDIS_URL';
/** Why the run has no server, set by test/globalSetup.js instead of REDIS_URL_ENV. */
const REDIS_MISSING_ENV = 'SWITCHYARD_TEST_REDIS_MISSING';
/** A directory holding redis-server, to use instead of Debian's /usr/bin. */
const REDIS_BIN_ENV = 'SWITCHYARD_TEST_REDIS_BIN';

const DEBIAN_BIN = '/usr/bin';
const SYSTEM_PORT = 6379;
/**
 * Where a server's port is drawn from: below postgresServer.js's 20000-31999
 * and so below Linux's ephemeral ports (32768-60999, where port-0 servers
 * land), apart from the media ports (40000, and 42000-57999 of
 * test/helpers/ports.ts), never 6379.
 */
const PORTS = { from: 16000, to: 19999 };
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * The directory of redis-server: $SWITCHYARD_TEST_REDIS_BIN, else /usr/bin.
 * `missing` says what was looked for when there is none.
 * @returns {{ bin: string } | { missing: string }}
 */
function findRedisBin() {
	const given = process.env[REDIS_BIN_ENV];
	const bin = given || DEBIAN_BIN;
	const program = path.join(bin, 'redis-server');
	return fs.existsSync(program) ? { bin } : { missing: `no ${program}${given ? ` (${REDIS_BIN_ENV})` : ''}` };
}

/**
 * One Redis server: a directory (redis.conf, redis.log) and, while running, a
 * redis-server child process on 127.0.0.1:port. It owns its temporary
 * directory: destroy() removes it.
 */
class RedisProcess {
	#bin;
	#dir;
	#password;
	#port;
	/** @type {import('node:child_process').ChildProcess | undefined} */
	#child;
	/** Settles when #child has exited (or did not spawn). */
	#exited = Promise.resolve();
	#destroyed = false;

	/** @param {{ bin: string; dir: string; password: string; port: number }} init */
	constructor({ bin, dir, password, port }) {
		this.#bin = bin;
		this.#dir = dir;
		this.#password = password;
		this.#port = port;
	}

	/** redis://:PASSWORD@127.0.0.1:PORT (the default user, database 0). */
	get url() {
		return `redis://:${this.#password}@127.0.0.1:${this.#port}`;
	}

	get port() {
		return this.#port;
	}

	/** The temporary directory: redis.conf and redis.log. */
	get dir() {
		return this.#dir;
	}

	/** Whether its redis-server process is alive (false too once it died of itself). */
	get running() {
		return this.#child !== undefined;
	}

	get #log() {
		return path.join(this.#dir, 'redis.log');
	}

	/**
	 * Starts redis-server on the same port; resolves once it answers AUTH and
	 * PING. Nothing persists, so it starts empty every time. Throws with the
	 * log's new lines when it does not start. Does nothing while running.
	 */
	async start() {
		if (this.#destroyed) {
			throw new Error(`redis server in ${this.#dir} was destroyed`);
		}
		if (this.#child) {
			return;
		}
		const logStart = fs.existsSync(this.#log) ? fs.statSync(this.#log).size : 0;
		// NOTE: its stdout and stderr go to the log too, so that what it says
		// before it opens the log (a bad config) is there; no pipes, so that the
		// child does not hold the event loop of the process that started it.
		const out = fs.openSync(this.#log, 'a');
		let child;
		try {
			child = spawn(path.join(this.#bin, 'redis-server'), [path.join(this.#dir, 'redis.conf'), '--port', String(this.#port)],
				{ cwd: this.#dir, stdio: ['ignore', out, out] });
		} finally {
			fs.closeSync(out);
		}
		child.unref();
		/** @type {string | undefined} */
		let ended;
		this.#exited = new Promise((resolve) => {
			child.once('error', (error) => {
				ended = error.message;
				resolve();
			});
			child.once('exit', (code, signalName) => {
				ended = `exit ${code ?? signalName}`;
				if (this.#child === child) {
					this.#child = undefined;
				}
				resolve();
			});
		});
		this.#child = child;
		const deadline = Date.now() + START_TIMEOUT_MS;
		for (;;) {
			if (ended === undefined && (await answers(this.#port, this.#password))) {
				return;
			}
			if (ended !== undefined || Date.now() > deadline) {
				if (ended === undefined) {
					await this.kill();
				}
				this.#child = undefined;
				throw new Error(`redis-server did not start on 127.0.0.1:${this.#port} (${ended ?? `no answer in ${START_TIMEOUT_MS} ms`})\n` +
					`--- ${this.#log}, new lines ---\n${tailFrom(this.#log, logStart, 20)}`);
			}
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
	}

	/** Stops redis-server (SIGTERM: it closes its connections and exits; nothing is saved). */
	async stop() {
		const pid = this.#child?.pid;
		if (pid === undefined) {
			return;
		}
		signal(pid, 'SIGTERM');
		if (!(await within(this.#exited, STOP_TIMEOUT_MS))) {
			throw new Error(`redis-server ${pid} did not exit in ${STOP_TIMEOUT_MS} ms of SIGTERM`);
		}
	}

	/** SIGKILLs redis-server (and any child it forked), as a crash would; resolves when they are dead. */
	async kill() {
		const exited = this.#exited;
		const [pid, ...forks] = this.killSync();
		const left = await untilDead(forks, STOP_TIMEOUT_MS);
		if (pid !== undefined && !(await within(exited, STOP_TIMEOUT_MS))) {
			left.unshift(pid);
		}
		if (left.length > 0) {
			throw new Error(`redis processes ${left.join(', ')} outlived SIGKILL`);
		}
	}

	/**
	 * The signals of kill(), without waiting: for a process about to exit.
	 * Returns the pids it signalled.
	 * @returns {number[]}
	 */
	killSync() {
		const child = this.#child;
		this.#child = undefined;
		if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
			return [];
		}
		// NOTE: Redis forks only to save (BGSAVE, BGREWRITEAOF), which a test may ask for.
		return killWithChildren(child.pid);
	}

	/** Stops the server if it runs (SIGKILL if it will not stop) and removes its directory. Idempotent. */
	async destroy() {
		if (this.#destroyed) {
			return;
		}
		await stopAndRemove(this, this.#dir);
		this.#destroyed = true;
	}
}

/**
 * Writes redis.conf in a fresh temporary directory (under `options.dir`,
 * default os.tmpdir()) and starts the server on `options.port`, or on a free
 * port of 16000-19999 (tried again on another when it is taken meanwhile).
 *
 * The server: 127.0.0.1 only, protected mode, a random password for the
 * default user (requirepass), no persistence (no RDB snapshots, no append-only
 * file), no Unix socket (none is configured), its log in the directory.
 * With `alsoOn`, it listens on that address of this host too (a bridge of
 * the benchmark's network namespaces, scripts/scaling/hosts.ts).
 * @param {{ dir?: string; port?: number; alsoOn?: string }} [options]
 * @returns {Promise<RedisProcess>}
 */
async function startRedisProcess(options = {}) {
	const found = findRedisBin();
	if (!('bin' in found)) {
		throw new Error(`cannot start Redis: ${found.missing}; apt-get install redis-server`);
	}
	if (options.port === SYSTEM_PORT) {
		throw new Error(`port ${SYSTEM_PORT} belongs to the system Redis: tests keep off it`);
	}
	const dir = await fs.promises.mkdtemp(path.join(options.dir ?? os.tmpdir(), 'switchyard-redis-'));
	try {
		const password = crypto.randomBytes(18).toString('hex');
		await fs.promises.writeFile(path.join(dir, 'redis.conf'), config(dir, password, options.alsoOn), { mode: 0o600 });
		return await startOnFreePort({ port: options.port, range: PORTS, taken: /Address already in use/ },
			(port) => new RedisProcess({ bin: found.bin, dir, password, port }));
	} catch (error) {
		fs.rmSync(dir, { recursive: true, force: true });
		throw error;
	}
}

/** redis.conf; the port is given on the command line, so that one file serves any port. */
function config(dir, password, alsoOn) {
	// NOTE: values are quoted; the directory comes from mkdtemp and the
	// password is hex, so neither holds a quote.
	if (alsoOn !== undefined && !net.isIPv4(alsoOn)) {
		throw new Error(`alsoOn: expected an IPv4 address, got ${JSON.stringify(alsoOn)}`);
	}
	return [
		`bind 127.0.0.1${alsoOn ? ` ${alsoOn}` : ''}`,
		'protected-mode yes',
		`requirepass "${password}"`,
		'save ""',
		'appendonly no',
		'daemonize no',
		`dir "${dir}"`,
		`logfile "${path.join(dir, 'redis.log')}"`,
		'',
	].join('\n');
}

/**
 * Whether 127.0.0.1:port answers AUTH password and PING with +OK and +PONG:
 * a server of ours, up. Any other answer, an error or silence is false.
 * @returns {Promise<boolean>}
 */
function answers(port, password) {
	const request = [['AUTH', password], ['PING']]
		.map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
		.join('');
	const expected = '+OK\r\n+PONG\r\n';
	return new Promise((resolve) => {
		let received = '';
		const socket = net.connect({ host: '127.0.0.1', port });
		const done = (ok) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1000, () => done(false));
		socket.once('error', () => done(false));
		socket.once('close', () => done(received === expected));
		socket.once('connect', () => socket.write(request));
		socket.on('data', (data) => {
			received += data.toString('latin1');
			if (received.length >= expected.length) {
				done(received === expected);
			}
		});
	});
}

/**
 * Whether `promise` settles within `ms`.
 * NOTE: redis-server runs threads. When its main thread has exited, /proc
 * shows a zombie while the others still hold its sockets; only the child's
 * exit event (waitpid) says the whole process is gone. The timer keeps the
 * event loop alive meanwhile: the child itself is unref()ed.
 * @returns {Promise<boolean>}
 */
async function within(promise, ms) {
	let timer;
	const timeout = new Promise((resolve) => {
		timer = setTimeout(resolve, ms, false);
	});
	try {
		return await Promise.race([promise.then(() => true), timeout]);
	} finally {
		clearTimeout(timer);
	}
}

/** The last `lines` lines of what `file` got past byte `from`. */
function tailFrom(file, from, lines) {
	try {
		const text = fs.readFileSync(file).subarray(from).toString('utf8').trimEnd();
		return text === '' ? '(nothing)' : text.split('\n').slice(-lines).join('\n');
	} catch (error) {
		return `(no log: ${error.message})`;
	}
}

module.exports = { REDIS_URL_ENV, REDIS_MISSING_ENV, REDIS_BIN_ENV, RedisProcess, findRedisBin, startRedisProcess };
