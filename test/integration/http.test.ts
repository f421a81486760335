import { metricValue } from '../helpers/metrics';
import { pollUntil } from '../helpers/poll';
import { startTestNode, type TestNode } from '../helpers/node';

describe('health, readiness and metrics over HTTP', () => {
	let node: TestNode;

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 2 } });
	});
	afterAll(() => node.close());

	test('/healthz and /readyz answer 200 with every worker up', async () => {
		const health = await fetch(`${node.url}/healthz`);
		expect(health.status).toBe(200);
		expect(await health.json()).toEqual({ status: 'ok' });

		const ready = await fetch(`${node.url}/readyz`);
		expect(ready.status).toBe(200);
		const body = await ready.json() as { status: string; workers: { state: string }[] };
		expect(body.status).toBe('ready');
		expect(body.workers.map((w) => w.state)).toEqual(['up', 'up']);
	});

	test('/metrics has process metrics and the worker gauge', async () => {
		const res = await fetch(`${node.url}/metrics`);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toContain('text/plain');
		const text = await res.text();
		expect(metricValue(text, 'switchyard_workers')).toBe(2);
		expect(metricValue(text, 'switchyard_worker_restarts_total')).toBe(0);
		expect(text).toContain('process_cpu_user_seconds_total');
		expect(text).toContain('nodejs_eventloop_lag_seconds');
	});

	test('a SIGKILLed worker: restart counted, /readyz 200 again, the server keeps serving', async () => {
		const victim = node.pool.workers[0]!;
		process.kill(victim.pid, 'SIGKILL');

		await pollUntil('replacement and restart counted', async () => {
			const text = await (await fetch(`${node.url}/metrics`)).text();
			return metricValue(text, 'switchyard_worker_restarts_total') === 1 && metricValue(text, 'switchyard_workers') === 2;
		}, { timeoutMs: 2000 });
		const text = await (await fetch(`${node.url}/metrics`)).text();
		expect(metricValue(text, 'switchyard_worker_deaths_total')).toBe(1);

		const ready = await fetch(`${node.url}/readyz`);
		expect(ready.status).toBe(200);
		const logged = node.logLines().find((line) => line.message === 'worker died');
		expect(logged).toMatchObject({ level: 'error', module: 'workers', worker: 0, pid: victim.pid });
	});

	test('unknown routes and methods get a JSON 404 with a code', async () => {
		const res = await fetch(`${node.url}/no/such/thing`, { method: 'POST', body: 'x'.repeat(10000) });
		expect(res.status).toBe(404);
		expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no such route' } });
		expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
	});
});
