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

module.exports = { alive, childrenOf, freePort, signal, tail, untilDead };
