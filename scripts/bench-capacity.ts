/**
 * Switchyard's capacity as a share of the engine's, measured in one run:
 *
 *   npm run bench:capacity -- [--repeats 2] [--scenario small] [--worker-core 0] [--generator-core 1]
 *     [--only switchyard|bare] [--transport webrtc|plain] [any other loadtest option, passed on: --step-size, --max-steps, ...] [--json]
 *
 * Runs the load test interleaved A/B/A/B (this machine's noise is about ±15 %
 * between runs, so A and B share the noise): A against a fresh Switchyard node
 * (scripts/loadtest/startNode.ts: one worker, its process on the generator's
 * core, the worker pinned to --worker-core by the load test), B with --bare
 * (a mediasoup worker with the same load and no Switchyard). Prints each run's
 * consumers per core at the target CPU, the node's capacity gauge, and the
 * ratio A/B of the means. Both sides' subscribers receive over the same kind
 * of transport (--transport, default webrtc: WebRTC transports through the
 * worker's WebRtcServer, the bare side's own WebRtcServer for B). With --json
 * the last line is one JSON object, with the transport kind.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunResult } from './loadtest/run';
import { startNode } from './loadtest/startNode';

const ROOT = path.resolve(__dirname, '..');
const RUN_TIMEOUT_MS = 15 * 60_000;

type Run = { kind: 'switchyard' | 'bare'; result: RunResult };

function loadtest(args: string[], env: Record<string, string>): Promise<RunResult> {
	return new Promise((resolve, reject) => {
		execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'loadtest.ts'), ...args, '--json'], {
			cwd: ROOT, env: { ...process.env, ...env }, timeout: RUN_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024,
		}, (error, stdout, stderr) => {
			const lines = stdout.trim().split('\n');
			process.stderr.write(lines.filter((l) => !l.startsWith('{')).map((l) => `  ${l}\n`).join(''));
			if (error) {
				reject(new Error(`loadtest ${args.join(' ')}: ${error.message}\n${stderr}`));
				return;
			}
			resolve(JSON.parse(lines.at(-1)!) as RunResult);
		});
	});
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
	const { values, tokens } = parseArgs({
		options: {
			repeats: { type: 'string', default: '2' },
			'worker-core': { type: 'string', default: '0' },
			'generator-core': { type: 'string', default: '1' },
			'target-cpu': { type: 'string', default: '0.8' },
			/** Only one side: figures for one scenario without the comparison. */
			only: { type: 'string' },
			transport: { type: 'string', default: 'webrtc' },
			json: { type: 'boolean', default: false },
		},
		strict: false,
		tokens: true,
	});
	const repeats = Number(values.repeats);
	if (!Number.isInteger(repeats) || repeats < 1 || repeats > 10) {
		throw new Error('--repeats: expected a whole number from 1 to 10');
	}
	// Everything this script does not know is the load test's.
	const own = new Set(['repeats', 'json', 'worker-core', 'generator-core', 'target-cpu', 'only', 'transport']);
	const passOn: string[] = [];
	for (const token of tokens ?? []) {
		if (token.kind === 'option' && !own.has(token.name)) {
			passOn.push(token.rawName, ...(token.value !== undefined ? [token.value] : []));
		} else if (token.kind === 'positional') {
			passOn.push(token.value);
		}
	}
	const workerCore = String(values['worker-core']);
	const generatorCore = String(values['generator-core']);
	const targetCpu = String(values['target-cpu']);
	const transport = String(values.transport);
	if (transport !== 'webrtc' && transport !== 'plain') {
		throw new Error('--transport: expected webrtc or plain');
	}
	const common = ['--worker-core', workerCore, '--generator-core', generatorCore, '--target-cpu', targetCpu, '--transport', transport, ...passOn];
	const loadAverage = os.loadavg().map((l) => l.toFixed(2)).join(' ');
	console.error(`bench:capacity: ${repeats} x (Switchyard, bare), load test options: ${common.join(' ')}; load average ${loadAverage}`);

	const runs: Run[] = [];
	const only = values.only;
	if (only !== undefined && only !== 'switchyard' && only !== 'bare') {
		throw new Error('--only: expected switchyard or bare');
	}
	for (let i = 0; i < repeats; i++) {
		if (only === 'bare') {
			console.error(`B${i + 1}: bare mediasoup`);
			runs.push({ kind: 'bare', result: await loadtest(['--bare', ...common], {}) });
			continue;
		}
		console.error(`A${i + 1}: Switchyard`);
		const node = await startNode({ core: Number(generatorCore), targetCpu: Number(targetCpu) });
		try {
			runs.push({ kind: 'switchyard', result: await loadtest(['--url', node.url, ...common], { SWITCHYARD_AUTH_SECRET: node.secret }) });
		} finally {
			await node.stop();
		}
		if (only === 'switchyard') {
			continue;
		}
		console.error(`B${i + 1}: bare mediasoup`);
		runs.push({ kind: 'bare', result: await loadtest(['--bare', ...common], {}) });
	}

	const perCore = (kind: Run['kind']) => runs.filter((r) => r.kind === kind).map((r) => r.result.consumersPerCore ?? Number.NaN);
	const switchyard = perCore('switchyard');
	const bare = perCore('bare');
	const ratio = mean(switchyard) / mean(bare);
	const gauge = runs.filter((r) => r.kind === 'switchyard').map((r) => r.result.gaugeRatio ?? Number.NaN);
	const fmt = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
	console.log(`consumers per core at ${Number(targetCpu) * 100} % CPU: Switchyard ${fmt(switchyard)} (mean ${Math.round(mean(switchyard))}), ` +
		`bare mediasoup ${fmt(bare)} (mean ${Math.round(mean(bare))})`);
	console.log(`Switchyard / bare mediasoup: ${(ratio * 100).toFixed(1)} %; pairwise ${switchyard.map((s, i) => `${((s / bare[i]!) * 100).toFixed(0)} %`).join(', ')}`);
	console.log(`node's capacity gauge / load test: ${gauge.map((g) => `${(g * 100).toFixed(0)} %`).join(', ')}`);
	console.log(`saturated: ${runs.map((r) => `${r.kind} ${r.result.saturated ? 'yes' : 'no'} (${r.result.stopReason})`).join('; ')}`);
	if (values.json) {
		console.log(JSON.stringify({ loadAverage, transport, options: common, ratio, switchyard, bare, gaugeRatios: gauge, runs }));
	}
}

main().catch((error: unknown) => {
	console.error(`bench:capacity: ${(error as Error).message}`);
	process.exit(1);
});
