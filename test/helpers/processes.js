// What the throwaway test servers (postgresServer.js, redisServer.js) share:
// free loopback ports, the state of processes from /proc, signals that do not
// mind a process already gone, and the tail of a log.
//
// Plain CommonJS, like those two, for jest's globalSetup.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');

/**
 * A TCP port of 127.0.0.1 free now, drawn at random from `from`-`to` (inclusive):
 * each server keeps to a range of its own, so that two runs at once rarely meet.
 * @param {{ from: number; to: number }} range
 * @returns {Promise<number>}
 */
async function freePort({ from, to }) {
	for (let i = 0; i < 50; i++) {
		const port = from + crypto.randomInt(to - from + 1);
		if (await tcpFree(port)) {
			return port;
		}
	}
	throw new Error(`no free TCP port in ${from}-${to} of 127.0.0.1`);
}

/**
 * Makes a server with `create(port)` and starts it, on `port` or else on a
 * free one of `range`. When start() fails with an error matching `taken`
 * (another process took the free port meanwhile), makes it again on another
 * one, three tries in all; a given `port` is tried once.
 * @template {{ start(): Promise<void> }} S
 * @param {{ port?: number; range: { from: number; to: number }; taken: RegExp }} where
 * @param {(port: number) => S} create
 * @returns {Promise<S>}
 */
async function startOnFreePort({ port, range, taken }, create) {
	for (let attempt = 1; ; attempt++) {
		const server = create(port ?? (await freePort(range)));
		try {
			await server.start();
			return server;
		} catch (error) {
			if (port !== undefined || !taken.test(String(error)) || attempt === 3) {
				throw error;
			}
		}
	}
}

/** @returns {Promise<boolean>} */
function tcpFree(port) {
	return new Promise((resolve) => {
		const server = net.createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

/**
 * Resolves when none of `pids` is alive, or after `timeoutMs` with those that
 * still are (an empty list: all dead).
 * @param {number[]} pids
 * @param {number} timeoutMs
 * @returns {Promise<number[]>}
 */
async function untilDead(pids, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	while (pids.some(alive)) {
		if (Date.now() > deadline) {
			return pids.filter(alive);
		}
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	return [];
}

/**
 * SIGKILLs `pid` and its children (a process stopped first forks no more);
 * returns the pids it signalled.
 * @returns {number[]}
 */
function killWithChildren(pid) {
	const pids = [pid, ...childrenOf(pid)];
	for (const p of pids) {
		signal(p, 'SIGKILL');
	}
	return pids;
}

/**
 * The work of a server's destroy(): stop() it (kill() when it will not stop)
 * and remove the directory it owns.
 * @param {{ stop(): Promise<void>; kill(): Promise<void> }} server
 * @param {string} dir
 */
async function stopAndRemove(server, dir) {
	try {
		await server.stop();
	} catch {
		await server.kill();
	}
	fs.rmSync(dir, { recursive: true, force: true });
}

/** The pids whose parent is `pid`, from /proc. */
function childrenOf(pid) {
	const children = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (/^\d+$/.test(entry) && stat(Number(entry))?.ppid === pid) {
			children.push(Number(entry));
		}
	}
	return children;
}

/** Alive: exists and is not a zombie. */
function alive(pid) {
	const s = stat(pid);
	return s !== undefined && s.state !== 'Z';
}

/** @returns {{ state: string; ppid: number } | undefined} */
function stat(pid) {
	try {
		// NOTE: the command name (field 2) may hold spaces and parentheses: split after its last ')'.
		const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
		return { state: state ?? '', ppid: Number(ppid) };
	} catch {
		return undefined;
	}
}

/** process.kill, where a process already gone is no error. */
function signal(pid, name) {
	try {
		process.kill(pid, name);
	} catch (error) {
		if (error.code !== 'ESRCH') {
			throw error;
		}
	}
}

/** The last `lines` lines of a log file, or why there are none. */
function tail(file, lines) {
	try {
		return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
	} catch (error) {
		return `(no log: ${error.message})`;
	}
}

module.exports = { alive, childrenOf, freePort, killWithChildren, signal, startOnFreePort, stopAndRemove, tail, untilDead };
