import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_DIR } from './child';
import { pollUntil } from './poll';
import { childrenOf, killWithChildren, signal, startOnFreePort, tail, untilDead } from './processes';

/**
 * A throwaway nginx for tests, from Debian's nginx package, in front of a
 * fleet's nodes: deploy/nginx/switchyard.conf itself, with its upstream's
 * servers and its listen line set to loopback ones, inside a main config of
 * its own (daemon off, pid, logs and temporary paths in a fresh temporary
 * directory). A child process of ours, as redisServer.js's and
 * postgresServer.js's servers are; Debian's own nginx service is left alone.
 */

/** The documented config the tests run. */
export const SITE_CONFIG = path.join(PROJECT_DIR, 'deploy', 'nginx', 'switchyard.conf');
const NGINX = '/usr/sbin/nginx';
/** Below redisServer.js's 16000-19999; no other helper draws from here. */
const PORTS = { from: 13000, to: 15999 };
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_TAIL_LINES = 40;

/**
 * `site` (the text of deploy/nginx/switchyard.conf) for a test: the servers of
 * its `upstream switchyard` block replaced by `upstreams` (node URLs, of which
 * the host and port count) and its one `listen` line by `listen`. Throws when
 * the file no longer has that shape, so that a test cannot quietly run
 * something other than the documented file.
 */
export function renderSite(site: string, { upstreams, listen }: { upstreams: readonly string[]; listen: string }): string {
	if (upstreams.length === 0) {
		throw new Error('an upstream needs at least one server');
	}
	const lines = site.split('\n');
	const out: string[] = [];
	let inUpstream = false;
	let servers = 0;
	let listens = 0;
	for (const line of lines) {
		if (/^\s*upstream\s+switchyard\s*\{/.test(line)) {
			inUpstream = true;
		} else if (inUpstream && /^\s*\}/.test(line)) {
			inUpstream = false;
		}
		const server = inUpstream ? /^(\s*)server\s+[^;]+;\s*$/.exec(line) : null;
		if (server) {
			if (servers++ === 0) {
				out.push(...upstreams.map((url) => `${server[1]}server ${new URL(url).host};`));
			}
			continue;
		}
		const listening = /^(\s*)listen\s+[^;]+;\s*$/.exec(line);
		if (listening) {
			listens++;
			out.push(`${listening[1]}listen ${listen};`);
			continue;
		}
		out.push(line);
	}
	if (servers === 0 || listens !== 1) {
		throw new Error(`the site config has ${servers} server lines in "upstream switchyard { }" (wanted 1 or more) and ${listens} listen lines (wanted 1)`);
	}
	return out.join('\n');
}

/**
 * The main config around the site: in the foreground, one worker, everything
 * it writes inside `dir`. As root the worker runs as nobody (nginx's default
 * user, named so that the intent shows); otherwise nginx cannot switch users
 * and the line would only draw a warning.
 */
function mainConfig(dir: string): string {
	const asRoot = process.getuid?.() === 0;
	return [
		...(asRoot ? ['user nobody nogroup;'] : []),
		'daemon off;',
		'worker_processes 1;',
		`pid ${path.join(dir, 'nginx.pid')};`,
		`error_log ${path.join(dir, 'error.log')} info;`,
		'events {',
		'    worker_connections 256;',
		'}',
		'http {',
		'    log_format upstream \'$remote_addr "$request" $status upstream=$upstream_addr $request_time s\';',
		`    access_log ${path.join(dir, 'access.log')} upstream;`,
		...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${path.join(dir, 'temp', kind)};`),
		`    include ${path.join(dir, 'switchyard.conf')};`,
		'}',
		'',
	].join('\n');
}

/** One nginx: a directory (nginx.conf, switchyard.conf, logs) and, while running, the master process. */
export class NginxProcess {
	readonly #dir: string;
	readonly #port: number;
	readonly #upstreams: readonly string[];
	#child: ChildProcess | undefined;

	constructor({ dir, port, upstreams }: { dir: string; port: number; upstreams: readonly string[] }) {
		this.#dir = dir;
		this.#port = port;
		this.#upstreams = upstreams;
	}

	/** http://127.0.0.1:PORT: the public side. */
	get url(): string {
		return `http://127.0.0.1:${this.#port}`;
	}

	get port(): number {
		return this.#port;
	}

	get dir(): string {
		return this.#dir;
	}

	get config(): string {
		return path.join(this.#dir, 'nginx.conf');
	}

	/** The rendered site config (deploy/nginx/switchyard.conf for this test). */
	get site(): string {
		return path.join(this.#dir, 'switchyard.conf');
	}

	get running(): boolean {
		return this.#child !== undefined;
	}

	get #args(): string[] {
		return ['-e', path.join(this.#dir, 'error.log'), '-p', `${this.#dir}/`, '-c', this.config];
	}

	/** `nginx -t` of the rendered config: its exit code and what it printed. */
	test(): { status: number | null; output: string } {
		const result = spawnSync(NGINX, ['-t', ...this.#args], { encoding: 'utf8', timeout: START_TIMEOUT_MS });
		return { status: result.status, output: `${result.stdout}${result.stderr}${result.error ? result.error.message : ''}` };
	}

	/** The tails of the error and access logs: for a failure's message. */
	describe(): string {
		return `=== nginx ${this.url} (${this.running ? `running, pid ${this.#child!.pid}` : 'not running'}) ===\n` +
			`--- error.log, last ${LOG_TAIL_LINES} lines ---\n${tail(path.join(this.#dir, 'error.log'), LOG_TAIL_LINES)}\n` +
			`--- access.log, last ${LOG_TAIL_LINES} lines ---\n${tail(path.join(this.#dir, 'access.log'), LOG_TAIL_LINES)}`;
	}

	/**
	 * Renders the configs for this port and starts nginx; resolves once it
	 * answers HTTP. Throws with its logs when it does not start. Does nothing
	 * while running.
	 */
	async start(): Promise<void> {
		if (this.#child) {
			return;
		}
		fs.writeFileSync(this.site, renderSite(fs.readFileSync(SITE_CONFIG, 'utf8'), { upstreams: this.#upstreams, listen: `127.0.0.1:${this.#port}` }));
		fs.writeFileSync(this.config, mainConfig(this.#dir));
		const log = path.join(this.#dir, 'error.log');
		// NOTE: what it writes before it opens error.log goes there too; no pipes, so the child does not hold jest's event loop.
		const out = fs.openSync(log, 'a');
		let child: ChildProcess;
		try {
			child = spawn(NGINX, this.#args, { cwd: this.#dir, stdio: ['ignore', out, out] });
		} finally {
			fs.closeSync(out);
		}
		child.unref();
		this.#child = child;
		let ended: string | undefined;
		void new Promise<string>((resolve) => {
			child.once('error', (error) => resolve(error.message));
			child.once('exit', (code, name) => resolve(`exit ${code ?? name}`));
		}).then((why) => {
			ended = why;
			if (this.#child === child) {
				this.#child = undefined;
			}
		});
		try {
			// NOTE: nginx writes its pid file once it has bound its port: before that another server's answer could pass.
			await pollUntil(`nginx to answer on ${this.url}`, async () => ended !== undefined || (this.#pidFile() === String(child.pid) && (await answers(this.#port))),
				{ timeoutMs: START_TIMEOUT_MS, intervalMs: 50 });
		} catch (error) {
			await this.kill();
			ended = (error as Error).message;
		}
		if (ended !== undefined) {
			throw new Error(`nginx did not start on ${this.url} (${ended})\n${this.describe()}`);
		}
	}

	#pidFile(): string | undefined {
		try {
			return fs.readFileSync(path.join(this.#dir, 'nginx.pid'), 'utf8').trim();
		} catch {
			return undefined;
		}
	}

	/** SIGTERM: nginx's fast shutdown (open WebSockets are closed, not waited for); resolves once the master and its worker are gone. */
	async stop(): Promise<void> {
		const pid = this.#child?.pid;
		if (pid === undefined) {
			return;
		}
		const pids = [pid, ...childrenOf(pid)];
		signal(pid, 'SIGTERM');
		const left = await untilDead(pids, STOP_TIMEOUT_MS);
		if (left.length > 0) {
			throw new Error(`nginx processes ${left.join(', ')} did not exit in ${STOP_TIMEOUT_MS} ms of SIGTERM`);
		}
		this.#child = undefined;
	}

	/** SIGKILLs the master and its workers; resolves when they are dead. */
	async kill(): Promise<void> {
		const child = this.#child;
		this.#child = undefined;
		if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
			return;
		}
		const left = await untilDead(killWithChildren(child.pid), STOP_TIMEOUT_MS);
		if (left.length > 0) {
			throw new Error(`nginx processes ${left.join(', ')} outlived SIGKILL`);
		}
	}

	/** Stops nginx (SIGKILL when it will not stop) and removes its directory. Idempotent. */
	async destroy(): Promise<void> {
		try {
			await this.stop();
		} catch {
			await this.kill();
		}
		fs.rmSync(this.#dir, { recursive: true, force: true });
	}
}

/**
 * Starts nginx in front of `upstreams` (node URLs) on a free loopback port of
 * 13000-15999 (another one when that is taken meanwhile).
 */
export async function startNginx({ upstreams }: { upstreams: readonly string[] }): Promise<NginxProcess> {
	if (!fs.existsSync(NGINX)) {
		throw new Error(`cannot start nginx: no ${NGINX}; apt-get install nginx`);
	}
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-nginx-'));
	// NOTE: a worker running as nobody (under root) must reach its temporary paths in here.
	fs.chmodSync(dir, 0o755);
	// nginx makes each temporary path (and, as root, gives it to the worker's user), not their parent.
	fs.mkdirSync(path.join(dir, 'temp'), { mode: 0o755 });
	try {
		return await startOnFreePort({ range: PORTS, taken: /Address already in use/ }, (port) => new NginxProcess({ dir, port, upstreams }));
	} catch (error) {
		fs.rmSync(dir, { recursive: true, force: true });
		throw error;
	}
}

/**
 * Whether nginx answers on 127.0.0.1:port: it refuses a malformed request
 * line itself (400, logged at info as "client sent invalid method"), so the
 * probe reaches no upstream and leaves its round-robin and failure counts alone.
 */
function answers(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		let received = '';
		const socket = net.connect({ host: '127.0.0.1', port });
		const done = (ok: boolean): void => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(1000, () => done(false));
		socket.once('error', () => done(false));
		socket.once('close', () => done(/^HTTP\/1\.1 400 /.test(received)));
		socket.once('connect', () => socket.write('PROBE-NGINX\r\n\r\n'));
		socket.on('data', (data: Buffer) => {
			received += data.toString('latin1');
		});
	});
}
