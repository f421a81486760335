/**
 * What end-to-end encryption costs the browser (docs/e2ee-cost.md): the same
 * room of K pages run in the clear and encrypted, interleaved clear /
 * encrypted / clear / ... because this machine's noise is large. For each
 * window it prints the CPU time of the whole headless chromium (every
 * process it started, from /proc) and, for the encrypted runs, what the
 * frame transform worker counted: frames, bytes in and out, and the time in
 * WebCrypto, per side (seal, open) and kind (audio, video).
 *
 *   node --import tsx scripts/bench-e2ee.ts [--pages 3] [--repeats 3] [--seconds 20] [--warmup 8] [--size 640x360] [--max-minutes 15] [--json]
 *
 * Every page publishes its fake camera (VP8, the web client's simulcast) and
 * microphone and receives the others': K senders and K(K-1) receivers of
 * each kind. One chromium, one context per page; one node, one worker.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import type { TransformCounts } from '../src/web/client/hookTypes';
import { e2ee, launchBrowser, openRoom, type Participant } from '../test/e2e/browser';
import { startTestNode, type TestNode } from '../test/helpers/node';

const { values: args } = parseArgs({
	options: {
		pages: { type: 'string', default: '3' },
		repeats: { type: 'string', default: '3' },
		seconds: { type: 'string', default: '20' },
		warmup: { type: 'string', default: '8' },
		size: { type: 'string', default: '640x360' },
		'max-minutes': { type: 'string', default: '15' },
		json: { type: 'boolean', default: false },
	},
});
const pages = Math.min(6, Math.max(2, Number(args.pages)));
const repeats = Math.min(10, Math.max(1, Number(args.repeats)));
const seconds = Math.min(120, Math.max(5, Number(args.seconds)));
const warmup = Math.min(60, Math.max(3, Number(args.warmup)));
const [w, h] = (args.size ?? '640x360').split('x').map(Number) as [number, number];
const deadline = Date.now() + Math.min(60, Math.max(1, Number(args['max-minutes']))) * 60_000;
const SECRET = 'a-secret-for-the-benchmark-room';
const TICKS_PER_SECOND = 100;

type Mode = 'clear' | 'e2ee';
/** Worker counts over a window, summed per side and kind; `seconds`: the streams' windows, summed. */
type Crypto = Record<`${'send' | 'recv'}-${'audio' | 'video'}`, { streams: number; seconds: number; frames: number; bytesIn: number; bytesOut: number; cryptoMs: number }>;
type Run = { mode: Mode; cpuMsPerSecond: number; crypto?: Crypto };

/** CPU time (ms) of every chromium process below this one, from /proc/PID/stat. */
function chromiumCpuMs(): number {
	const procs = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
		try {
			const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
			const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			return [{ pid: Number(pid), comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) }];
		} catch {
			return [];
		}
	});
	const byPid = new Map(procs.map((p) => [p.pid, p]));
	const below = (p: { ppid: number }): boolean => {
		for (let at = byPid.get(p.ppid), hops = 0; at && hops < 20; at = byPid.get(at.ppid), hops++) {
			if (at.pid === process.pid) {
				return true;
			}
		}
		return p.ppid === process.pid;
	};
	const ticks = procs.filter((p) => /chrom/i.test(p.comm) && below(p)).reduce((sum, p) => sum + p.ticks, 0);
	return (ticks * 1000) / TICKS_PER_SECOND;
}

/** Each page's transforms by `page/id`, with when its worker counted them. */
async function workerCounts(people: Participant[]): Promise<Map<string, TransformCounts & { at: number }>> {
	const all = new Map<string, TransformCounts & { at: number }>();
	for (const [i, p] of people.entries()) {
		const report = await e2ee(p);
		for (const t of report.transforms) {
			all.set(`${i}/${t.id}`, { ...t, at: report.countsAt });
		}
	}
	return all;
}

function difference(before: Map<string, TransformCounts & { at: number }>, after: Map<string, TransformCounts & { at: number }>): Crypto {
	const zero = () => ({ streams: 0, seconds: 0, frames: 0, bytesIn: 0, bytesOut: 0, cryptoMs: 0 });
	const crypto: Crypto = { 'send-audio': zero(), 'send-video': zero(), 'recv-audio': zero(), 'recv-video': zero() };
	for (const [key, now] of after) {
		const then = before.get(key);
		if (!then) {
			continue;
		}
		const sum = crypto[`${now.side}-${now.kind}`];
		sum.streams++;
		sum.seconds += (now.at - then.at) / 1000;
		sum.frames += now.frames - (then?.frames ?? 0);
		sum.bytesIn += now.bytesIn - (then?.bytesIn ?? 0);
		sum.bytesOut += now.bytesOut - (then?.bytesOut ?? 0);
		sum.cryptoMs += now.cryptoMs - (then?.cryptoMs ?? 0);
	}
	return crypto;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(browser: Browser, node: TestNode, mode: Mode, index: number): Promise<Run> {
	const people: Participant[] = [];
	try {
		for (let i = 0; i < pages; i++) {
			people.push(await openRoom(browser, node.url, `bench-e2ee-${index}`, `Page ${i + 1}`, { size: { w, h }, e2ee: mode === 'e2ee' ? SECRET : undefined }));
		}
		await sleep(warmup * 1000);
		const counts = mode === 'e2ee' ? await workerCounts(people) : undefined;
		const cpu = chromiumCpuMs();
		await sleep(seconds * 1000);
		const cpuMsPerSecond = (chromiumCpuMs() - cpu) / seconds;
		const crypto = counts && difference(counts, await workerCounts(people));
		return { mode, cpuMsPerSecond, crypto };
	} finally {
		for (const p of people) {
			await p.context.close();
		}
	}
}

function describe(crypto: Crypto): string[] {
	return Object.entries(crypto).filter(([, c]) => c.frames > 0).map(([what, c]) => {
		const added = (c.bytesOut - c.bytesIn) / c.frames;
		const framesPerSecond = c.frames / c.seconds;
		return `  ${what.padEnd(10)} ${c.streams} streams, ${framesPerSecond.toFixed(1)} frames/s each${what.startsWith('send-video') ? ' (all its layers)' : ''}, ${((1000 * c.cryptoMs) / c.frames).toFixed(1)} µs in WebCrypto per frame (wall time), `
			+ `${(c.cryptoMs / c.seconds).toFixed(2)} ms/s per stream, ${added.toFixed(1)} bytes per frame ${added >= 0 ? 'added' : 'removed'} `
			+ `(${((Math.abs(added) * 8 * framesPerSecond) / 1000).toFixed(1)} kbit/s per stream)`;
	});
}

async function main(): Promise<void> {
	if (process.env.CI) {
		console.error('bench:e2ee measures; it does not run in CI');
		process.exit(2);
	}
	execFileSync(process.execPath, [path.join(__dirname, 'build-client.mjs')], { stdio: 'ignore' });
	const chromium = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
	const header = `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${chromium}, Node ${process.version}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;
	const load = `load: a room of ${pages} pages, each sending a ${w}x${h} fake camera (VP8 simulcast) and microphone and receiving the others'; ${warmup} s warm-up, ${seconds} s measured; one headless chromium, one node with one worker`;
	if (!args.json) {
		console.log(header);
		console.log(load);
	}
	const node = await startTestNode({ media: { workers: 1 }, log: { level: 'warn' } });
	const browser = await launchBrowser();
	const runs: Run[] = [];
	try {
		for (let repeat = 0; repeat < repeats && Date.now() < deadline; repeat++) {
			for (const mode of ['clear', 'e2ee'] as const) {
				const result = await run(browser, node, mode, runs.length);
				runs.push(result);
				if (!args.json) {
					console.log(`repeat ${repeat + 1} ${mode.padEnd(5)}: chromium ${result.cpuMsPerSecond.toFixed(0)} ms of CPU per second`);
					for (const line of result.crypto ? describe(result.crypto) : []) {
						console.log(line);
					}
				}
			}
		}
	} finally {
		await browser.close();
		await node.close();
	}
	const mean = (mode: Mode) => {
		const of = runs.filter((r) => r.mode === mode);
		return of.reduce((sum, r) => sum + r.cpuMsPerSecond, 0) / of.length;
	};
	const transforms = pages * 2 + pages * (pages - 1) * 2;
	const summary = {
		pages, repeats: runs.length / 2, seconds, size: `${w}x${h}`,
		clearCpuMsPerSecond: mean('clear'), e2eeCpuMsPerSecond: mean('e2ee'),
		ratio: mean('e2ee') / mean('clear'),
		extraCpuMsPerSecondPerStream: (mean('e2ee') - mean('clear')) / transforms,
		runs,
	};
	if (args.json) {
		console.log(JSON.stringify(summary));
		return;
	}
	console.log(`mean chromium CPU: clear ${summary.clearCpuMsPerSecond.toFixed(0)} ms/s, encrypted ${summary.e2eeCpuMsPerSecond.toFixed(0)} ms/s: ratio ${summary.ratio.toFixed(2)}`);
	console.log(`extra per stream sealed or opened (${transforms} in the room): ${summary.extraCpuMsPerSecondPerStream.toFixed(2)} ms of CPU per second`);
}

main().then(() => process.exit(0), (error: unknown) => {
	console.error(error);
	process.exit(1);
});
