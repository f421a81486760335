import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';
import { launchBrowser, openRoom, report, stats, type Participant } from './browser';

const TURNSERVER = process.env.TURNSERVER_BIN ?? '/usr/bin/turnserver';

async function decodesEachOther(participants: Participant[]): Promise<void> {
	try {
		await pollUntil('both decode the other\'s video and audio', async () => {
			for (const p of participants) {
				const inbound = await stats(p);
				if (!inbound.some((s) => s.kind === 'video' && s.framesDecoded > 0) || !inbound.some((s) => s.kind === 'audio' && s.bytesReceived > 0)) {
					return false;
				}
			}
			return true;
		}, { timeoutMs: 30000, intervalMs: 250 });
	} catch (error) {
		process.stderr.write(`${await report(participants)}\n`);
		throw error;
	}
}

describe('deployment: HTTPS and TURN, in a real browser', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-deploy-'));
	let browser: Browser;
	const cleanups: (() => Promise<unknown> | unknown)[] = [];

	beforeAll(async () => {
		browser = await launchBrowser();
	});
	afterEach(async () => {
		for (const cleanup of cleanups.splice(0).reverse()) {
			await cleanup();
		}
	});
	afterAll(async () => {
		await browser?.close();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	test('the node serves the web client over HTTPS with its own certificate, and a call works over it', async () => {
		const cert = path.join(dir, 'cert.pem');
		const key = path.join(dir, 'key.pem');
		execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
			'-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
		const node: TestNode = await startTestNode({ media: { workers: 1 }, http: { tlsCertFile: cert, tlsKeyFile: key } });
		cleanups.push(() => node.close());
		expect(node.url).toMatch(/^https:/);
		const participants: Participant[] = [];
		cleanups.push(() => Promise.all(participants.map((p) => p.context.close())));
		for (const name of ['Secure', 'Sockets']) {
			participants.push(await openRoom(browser, node.url, 'tls', name, { ignoreHTTPSErrors: true }));
		}
		expect(participants[0]!.page.url()).toMatch(/^https:\/\/127\.0\.0\.1/);
		expect(await participants[0]!.page.evaluate(() => (globalThis as unknown as { isSecureContext: boolean }).isSecureContext)).toBe(true);
		await decodesEachOther(participants);
	});

	test('with a real coturn and relay-only clients, media flows through the relay', async () => {
		if (!fs.existsSync(TURNSERVER)) {
			throw new Error(`${TURNSERVER} is missing: apt-get install coturn (.ci/run does)`);
		}
		const [turnPort, relayBase] = await Promise.all([findFreePorts(1), findFreePorts(50)]);
		const secret = 'turn-secret-for-the-test-0123';
		const turn: ChildProcess = spawn(TURNSERVER, [
			'-n', '--listening-ip=127.0.0.1', `--listening-port=${turnPort}`, '--relay-ip=127.0.0.1',
			`--min-port=${relayBase}`, `--max-port=${relayBase + 49}`, '--use-auth-secret', `--static-auth-secret=${secret}`,
			'--realm=switchyard.test', '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls', '--no-tcp-relay',
			'--fingerprint', '--log-file=stdout', '--simple-log', `--pidfile=${path.join(dir, 'turn.pid')}`,
			`--userdb=${path.join(dir, 'turndb')}`,
		], { stdio: ['ignore', 'pipe', 'pipe'] });
		let turnLog = '';
		turn.stdout!.on('data', (chunk: Buffer) => (turnLog += chunk.toString()));
		turn.stderr!.on('data', (chunk: Buffer) => (turnLog += chunk.toString()));
		cleanups.push(() => turn.kill('SIGTERM'));
		await pollUntil('coturn up', () => /Total General servers|listener opened/.test(turnLog), { timeoutMs: 10000 })
			.catch((error: Error) => {
				throw new Error(`${error.message}\n${turnLog.slice(-2000)}`);
			});

		const node = await startTestNode({
			media: { workers: 1 },
			turn: { urls: [`turn:127.0.0.1:${turnPort}?transport=udp`], secret, credentialTtlSeconds: 600, relayOnly: true },
		});
		cleanups.push(() => node.close());
		const participants: Participant[] = [];
		cleanups.push(() => Promise.all(participants.map((p) => p.context.close())));
		for (const name of ['Relay', 'Only']) {
			participants.push(await openRoom(browser, node.url, 'relayed', name));
		}
		await decodesEachOther(participants);
		for (const p of participants) {
			const types = await p.page.evaluate(() => (globalThis as unknown as { switchyard: { candidateTypes(): Promise<string[]> } }).switchyard.candidateTypes());
			expect(types).toEqual(['relay', 'relay']);
		}
	});
});
