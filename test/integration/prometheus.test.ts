import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, device, signup } from '../helpers/accounts';
import { MediaClient } from '../helpers/mediaClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';
import { SignalingClient } from '../helpers/signalingClient';
import { dashboards } from '../helpers/dashboards';
import { FakeClock } from '../helpers/fakeClock';
import { freshRedisPrefix, testRedis } from '../helpers/redis';

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

// Grafana's template variables, as Grafana would substitute them.
function substitute(expr: string): string {
	return expr
		.replaceAll('$__rate_interval', '10s')
		.replaceAll('$__interval', '2s')
		.replaceAll('$instance', '.*');
}

describe('every dashboard query against a real Prometheus scraping a node with calls', () => {
	let node: TestNode;
	let prometheus: ChildProcess | undefined;
	let promUrl = '';
	let promLog = '';
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-prometheus-'));
	const closers: (() => Promise<void> | void)[] = [];

	beforeAll(async () => {
		if (!fs.existsSync(PROMETHEUS)) {
			throw new Error(`${PROMETHEUS} is missing: apt-get install prometheus (.ci/run does)`);
		}
		// NOTE: the calls' clock: the missed call below times out when told, not after a real wait.
		const clock = new FakeClock();
		node = await startTestNode({
			media: { workers: 1, usageIntervalMs: 500 },
			metrics: { statsIntervalMs: 1000 },
			calls: { ringTimeoutSeconds: 1 },
			// A node of a cluster, for the cluster panel: the fleet is this node.
			auth: { secret: 'prometheus-test-secret-0123456789abcdef' },
			cluster: { redisUrl: testRedis().url, keyPrefix: freshRedisPrefix(), heartbeatMs: 500 },
		}, { clock });

		// A call with media...
		const caller = await signup(node, 'prom_caller');
		const callee = await signup(node, 'prom_callee');
		await api(node, callee.token, 'PUT', `/api/me/contacts/${caller.handle}`);
		const clients: SignalingClient[] = [];
		closers.push(() => clients.forEach((c) => c.disconnect()));
		const callerDevice = await device(node, caller, clients);
		const calleeDevice = await device(node, callee, clients);
		const { callId } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'video' });
		await calleeDevice.waitFor('call.incoming');
		const accepted = await calleeDevice.request('call.accept', { callId });
		const { token: callerToken } = await callerDevice.waitFor('call.accepted');
		for (const token of [callerToken, accepted.token]) {
			const signaling = await SignalingClient.connect(node.url, { token });
			const media = await MediaClient.create(signaling);
			closers.push(async () => {
				await media.close();
				signaling.disconnect();
			});
			await media.join(accepted.roomId);
			await media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		}
		// ...and a few ringing, declined and missed ones.
		const others = await Promise.all(['prom_a', 'prom_b', 'prom_c'].map((h) => signup(node, h)));
		for (const other of others) {
			await api(node, other.token, 'PUT', `/api/me/contacts/${caller.handle}`);
		}
		const otherDevices = await Promise.all(others.map((o) => device(node, o, clients)));
		const declined = await callerDevice.request('call.invite', { to: [others[0]!.handle], media: 'audio' });
		await otherDevices[0]!.waitFor('call.incoming');
		await otherDevices[0]!.request('call.decline', { callId: declined.callId });
		await callerDevice.request('call.invite', { to: [others[1]!.handle], media: 'audio' });
		await otherDevices[1]!.waitFor('call.incoming');
		await clock.advance(1000);
		await otherDevices[1]!.waitFor('call.missed');
		await callerDevice.request('call.invite', { to: [others[2]!.handle], media: 'audio' });
		await expect(callerDevice.request('call.invite', { to: ['nobody_at_all'], media: 'audio' })).rejects.toMatchObject({ code: 'unavailable' });

		const [port] = [await findFreePorts(1)];
		promUrl = `http://127.0.0.1:${port}`;
		const config = path.join(dir, 'prometheus.yml');
		fs.writeFileSync(config, [
			'global:',
			'  scrape_interval: 1s',
			'  evaluation_interval: 1s',
			'scrape_configs:',
			'  - job_name: switchyard',
			'    static_configs:',
			`      - targets: ['${new URL(node.url).host}']`,
		].join('\n'));
		prometheus = spawn(PROMETHEUS, [
			`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
		], { stdio: ['ignore', 'pipe', 'pipe'] });
		prometheus.stdout!.on('data', (chunk: Buffer) => (promLog += chunk.toString()));
		prometheus.stderr!.on('data', (chunk: Buffer) => (promLog += chunk.toString()));
		await pollUntil('Prometheus ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, { timeoutMs: 20000, intervalMs: 250 });
		// Enough scrapes for the rate() windows.
		await pollUntil('12 scrapes of the node', async () => {
			const result = await query('count_over_time(switchyard_workers[1m])');
			return Number(result[0]?.value[1] ?? 0) >= 12;
		}, { timeoutMs: 40000, intervalMs: 500 });
	}, 90_000);

	afterAll(async () => {
		prometheus?.kill('SIGTERM');
		for (const close of closers.reverse()) {
			await close();
		}
		await node?.close();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
		const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
		const body = await res.json() as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
		if (body.status !== 'success') {
			throw new Error(`${expr}: ${body.error}`);
		}
		return body.data!.result;
	}

	const panels = dashboards.flatMap(([file, dashboard]) => dashboard.panels.flatMap((panel) =>
		(panel.targets ?? []).map((target) => [file, panel.title!, target.refId, target.expr!] as const)));

	test.each(panels)('%s: "%s" %s returns data', async (_file, _title, _ref, expr) => {
		try {
			const result = await query(substitute(expr));
			expect(result.length).toBeGreaterThan(0);
		} catch (error) {
			process.stderr.write(`prometheus log tail:\n${promLog.slice(-2000)}\n`);
			throw error;
		}
	});

	test('the call and its siblings are in the funnel', async () => {
		const answered = await query('sum(switchyard_call_outcomes_total{outcome="answered"})');
		expect(Number(answered[0]!.value[1])).toBe(1);
		const missed = await query('sum(switchyard_call_outcomes_total{outcome=~"no_answer|declined|unavailable"})');
		expect(Number(missed[0]!.value[1])).toBeGreaterThanOrEqual(3);
		const bytes = await query('sum(rate(switchyard_rtp_bytes_total{direction="out"}[10s]))');
		expect(Number(bytes[0]!.value[1])).toBeGreaterThan(0);
	});
});
