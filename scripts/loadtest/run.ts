/**
 * One load run: step by step, add a scenario's peers to a target, let them
 * settle, then measure over a window: worker CPU (from /proc), what the sink
 * receives (packets/s, Mbit/s, loss), consumers. It stops at the first step
 * that overloads the worker (loss or CPU), a failure, the step limit or the
 * time limit. The fit of worker CPU against consumers over the steps that were
 * not overloaded gives consumers per core at the target utilisation.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Pacer } from './publisher';
import { expectedConsumers, type PeerSpec, type Scenario } from './scenarios';
import type { Sink, SinkTotals } from './sink';
import type { GaugeReading, LoadTarget } from './target';

export type RunOptions = {
	scenario: Scenario;
	maxSteps: number;
	settleSeconds: number;
	windowSeconds: number;
	timeoutSeconds: number;
	/** Share of a core the capacity figure plans for (as metrics.targetCpu). */
	targetCpu: number;
	/** Peers set up at once. */
	concurrency: number;
	/** A step with more loss at the sink than this is overloaded. */
	maxLoss: number;
	/** Another reason to stop after a step (the step is kept): a benchmark's own load limit. */
	stopAfter?: (step: StepResult) => string | undefined;
	log: (line: string) => void;
};

export type StepResult = {
	step: number;
	peers: number;
	publishers: number;
	subscribers: number;
	consumers: number;
	expectedConsumers: number;
	setupSeconds: number;
	/** Mean share of a core over the window, per worker. */
	workerCpu: number[];
	packetsPerSecond: number;
	mbitPerSecond: number;
	/** Packets lost on the way to the sink, the sink's own socket drops excluded. */
	loss: number;
	/** Share of the expected packets the sink's own socket dropped (its core was too busy): not the node's loss. */
	sinkDrops: number;
	/** Share of a core this process (generator and sink) used over the window. */
	generatorCpu: number;
	/** Subscribers and consumers of each worker, where the target knows them (a fleet's nodes). */
	perWorker?: { subscribers: number; consumers: number }[];
	gauge?: GaugeReading;
	errors: string[];
};

export type RunResult = {
	scenario: string;
	describe: string;
	target: string;
	targetCpu: number;
	steps: StepResult[];
	stopReason: string;
	/** Whether a step reached the overload condition (loss or >= 95 % CPU). */
	saturated: boolean;
	fit?: { idleCpu: number; cpuPerConsumer: number; points: number };
	consumersPerCore?: number;
	subscribersPerCore?: number;
	consumersPerSubscriber?: number;
	/** The node's own estimate (capacity gauge), per core at the target, and its ratio to ours. */
	gaugeConsumersPerCore?: number;
	gaugeRatio?: number;
	/** How subscribers received, and what the counted WebRTC receivers' RTCP did over the run. */
	receivers?: { transport: 'webrtc' | 'plain'; lossRate?: number; nacked?: number; retransmissions?: number; receiverReports?: number; authFailures?: number };
};

const CPU_OVERLOAD = 0.95;
const CONSUMER_WAIT_MS = 60_000;
const CLOCK_TICKS = 100;

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Pins a process and all its threads to one core (taskset). */
export function pin(pid: number, core: number): void {
	execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

/** CPU seconds (user + system) of a local process, from /proc/PID/stat; NaN if unreadable. */
export function processCpuSeconds(pid: number): number {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		// utime and stime: fields 14 and 15 of stat(5), the 12th and 13th after the name.
		return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
	} catch {
		return Number.NaN;
	}
}

/** Least squares of cpu against consumers; undefined without two distinct points. */
export function fitCpu(points: { consumers: number; cpu: number }[]): { idleCpu: number; cpuPerConsumer: number } | undefined {
	const n = points.length;
	if (n < 2) {
		return undefined;
	}
	const mx = points.reduce((s, p) => s + p.consumers, 0) / n;
	const my = points.reduce((s, p) => s + p.cpu, 0) / n;
	const sxx = points.reduce((s, p) => s + (p.consumers - mx) ** 2, 0);
	const sxy = points.reduce((s, p) => s + (p.consumers - mx) * (p.cpu - my), 0);
	if (sxx === 0 || sxy <= 0) {
		return undefined;
	}
	const slope = sxy / sxx;
	return { idleCpu: my - slope * mx, cpuPerConsumer: slope };
}

export async function runLoad(target: LoadTarget, sink: Sink, pacer: Pacer, options: RunOptions): Promise<RunResult> {
	const { scenario, log } = options;
	const deadline = Date.now() + options.timeoutSeconds * 1000;
	const added: PeerSpec[] = [];
	const steps: StepResult[] = [];
	let stopReason = `step limit (${options.maxSteps})`;
	const pids = target.workerPids();
	if (pids.length === 0 || pids.some((pid) => Number.isNaN(processCpuSeconds(pid)))) {
		throw new Error('the workers\' CPU time is not readable from /proc: run the load test on the node\'s machine');
	}
	for (let index = 0; index < options.maxSteps; index++) {
		if (Date.now() > deadline) {
			stopReason = `time limit (${options.timeoutSeconds} s)`;
			break;
		}
		const setupStarted = Date.now();
		const errors = await addPeers(target, scenario.step(index), options.concurrency, added);
		const expected = expectedConsumers(added);
		const waitUntil = Math.min(deadline, Date.now() + CONSUMER_WAIT_MS);
		while (target.consumers() < expected && Date.now() < waitUntil) {
			await sleep(100);
		}
		const setupSeconds = (Date.now() - setupStarted) / 1000;
		await sleep(options.settleSeconds * 1000);

		const cpuBefore = pids.map(processCpuSeconds);
		const sinkBefore = sink.totals();
		const selfBefore = process.cpuUsage();
		const startedAt = performance.now();
		await sleep(options.windowSeconds * 1000);
		const seconds = (performance.now() - startedAt) / 1000;
		const cpuAfter = pids.map(processCpuSeconds);
		const sinkAfter = sink.totals();
		const self = process.cpuUsage(selfBefore);
		const step: StepResult = {
			step: index + 1,
			peers: added.length,
			publishers: added.filter((p) => p.publish.length > 0).length,
			subscribers: added.filter((p) => p.subscribe).length,
			consumers: target.consumers(),
			expectedConsumers: expected,
			setupSeconds,
			workerCpu: cpuAfter.map((after, i) => (after - cpuBefore[i]!) / seconds),
			packetsPerSecond: (sinkAfter.packets - sinkBefore.packets) / seconds,
			mbitPerSecond: ((sinkAfter.bytes - sinkBefore.bytes) * 8) / seconds / 1e6,
			...loss(sinkBefore, sinkAfter),
			generatorCpu: (self.user + self.system) / 1e6 / seconds,
			perWorker: target.perWorker?.(),
			gauge: await target.gauge?.().catch(() => undefined),
			errors,
		};
		steps.push(step);
		log(formatStep(step));
		if (errors.length > 0) {
			stopReason = `errors: ${errors[0]}`;
			break;
		}
		if (step.sinkDrops > options.maxLoss) {
			// NOTE: the worker still forwarded those packets: the step's CPU figure stands.
			stopReason = `the sink's socket dropped ${(step.sinkDrops * 100).toFixed(1)} %: the generator's core is too busy to load the worker further`;
			break;
		}
		if (step.loss > options.maxLoss || Math.max(...step.workerCpu) >= CPU_OVERLOAD) {
			stopReason = `overloaded (loss ${(step.loss * 100).toFixed(1)} %, worker CPU ${(Math.max(...step.workerCpu) * 100).toFixed(0)} %)`;
			break;
		}
		const other = options.stopAfter?.(step);
		if (other !== undefined) {
			stopReason = other;
			break;
		}
	}
	return summarise(target, options, steps, stopReason);
}

function loss(before: SinkTotals, after: SinkTotals): { loss: number; sinkDrops: number } {
	const expected = after.expected - before.expected;
	if (expected <= 0) {
		return { loss: 0, sinkDrops: 0 };
	}
	const lost = Math.max(0, expected - (after.received - before.received));
	const dropped = Math.min(lost, after.socketDrops - before.socketDrops);
	return { loss: (lost - dropped) / expected, sinkDrops: dropped / expected };
}

/** Adds peers `concurrency` at a time; returns the first few failures. */
async function addPeers(target: LoadTarget, specs: PeerSpec[], concurrency: number, added: PeerSpec[]): Promise<string[]> {
	const errors: string[] = [];
	let next = 0;
	const lane = async () => {
		while (next < specs.length) {
			const spec = specs[next++]!;
			try {
				await target.addPeer(spec);
				added.push(spec);
			} catch (error) {
				if (errors.length < 5) {
					errors.push((error as Error).message.slice(0, 200));
				}
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, lane));
	return errors;
}

function summarise(target: LoadTarget, options: RunOptions, steps: StepResult[], stopReason: string): RunResult {
	const workers = target.workerPids().length;
	const healthy = steps.filter((s) => s.loss <= options.maxLoss / 2 && Math.max(...s.workerCpu) < CPU_OVERLOAD && s.errors.length === 0);
	const points = healthy.map((s) => ({ consumers: s.consumers / workers, cpu: s.workerCpu.reduce((a, b) => a + b, 0) / workers }));
	const result: RunResult = {
		scenario: options.scenario.name,
		describe: options.scenario.describe,
		target: target.description,
		targetCpu: options.targetCpu,
		steps,
		stopReason,
		saturated: steps.some((s) => s.loss > options.maxLoss || Math.max(...s.workerCpu) >= CPU_OVERLOAD),
	};
	const fit = fitCpu(points);
	if (fit) {
		result.fit = { ...fit, points: points.length };
		result.consumersPerCore = (options.targetCpu - fit.idleCpu) / fit.cpuPerConsumer;
	} else if (points.length > 0) {
		// One point: its ratio bounds the cost (idle counted as per-consumer cost).
		const last = points.at(-1)!;
		result.consumersPerCore = last.cpu > 0 ? (options.targetCpu * last.consumers) / last.cpu : undefined;
	}
	const last = steps.at(-1);
	if (last && last.subscribers > 0 && result.consumersPerCore !== undefined) {
		result.consumersPerSubscriber = last.consumers / last.subscribers;
		result.subscribersPerCore = result.consumersPerCore / result.consumersPerSubscriber;
	}
	// NOTE: the gauge at the busiest step that was neither overloaded nor over the target: over the
	// target its headroom is 0 and it reads "consumers now", whatever the estimate.
	const gaugeStep = [...healthy].reverse().find((s) => s.gauge && Math.max(...s.workerCpu) <= options.targetCpu) ?? [...healthy].reverse().find((s) => s.gauge);
	if (gaugeStep?.gauge) {
		result.gaugeConsumersPerCore = gaugeStep.gauge.consumersPerCore;
		if (result.consumersPerCore) {
			result.gaugeRatio = gaugeStep.gauge.consumersPerCore / result.consumersPerCore;
		}
	}
	return result;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export function formatStep(s: StepResult): string {
	const gauge = s.gauge ? `  gauge ${Math.round(s.gauge.consumersPerCore)}/core` : '';
	const errors = s.errors.length > 0 ? `  ERRORS ${s.errors.length}: ${s.errors[0]}` : '';
	// The node never offered some consumers (or closed them): a defect worth a look, not just a number.
	const missing = s.consumers < s.expectedConsumers ? `  MISSING ${s.expectedConsumers - s.consumers} consumers` : '';
	const usPerPacket = s.packetsPerSecond > 0 ? `  ${((s.workerCpu.reduce((a, b) => a + b, 0) / s.packetsPerSecond) * 1e6).toFixed(1)} µs/pkt` : '';
	return `step ${String(s.step).padStart(2)}: ${String(s.peers).padStart(4)} peers (${s.publishers} pub, ${s.subscribers} sub)  ` +
		`${String(s.consumers).padStart(5)}/${s.expectedConsumers} consumers  worker CPU ${s.workerCpu.map(pct).join(' / ')}  ` +
		`${Math.round(s.packetsPerSecond)} pkt/s  ${s.mbitPerSecond.toFixed(1)} Mbit/s  loss ${(s.loss * 100).toFixed(2)} %${s.sinkDrops > 0 ? ` (+${(s.sinkDrops * 100).toFixed(2)} % dropped by the sink's socket)` : ''}${usPerPacket}  ` +
		`generator CPU ${pct(s.generatorCpu)}  set up in ${s.setupSeconds.toFixed(1)} s${gauge}${missing}${errors}`;
}

export function formatResult(r: RunResult): string[] {
	const lines = [`stopped: ${r.stopReason}; saturated: ${r.saturated ? 'yes' : 'no'}`];
	const rx = r.receivers;
	if (rx?.transport === 'webrtc') {
		lines.push(`WebRTC receivers (counted ones): ${rx.receiverReports} receiver reports, ${rx.nacked} packets NACKed, ${rx.retransmissions} retransmissions received, ${rx.authFailures} SRTP failures`);
	}
	if (r.fit) {
		lines.push(`fit over ${r.fit.points} steps: worker CPU = ${pct(r.fit.idleCpu)} + ${(r.fit.cpuPerConsumer * 1e4).toFixed(2)} % per 100 consumers`);
	}
	if (r.consumersPerCore !== undefined) {
		lines.push(`at ${pct(r.targetCpu)} of a core: ${Math.round(r.consumersPerCore)} consumers per core, ` +
			`${r.subscribersPerCore !== undefined ? Math.round(r.subscribersPerCore) : '?'} subscribers per core ` +
			`(${r.consumersPerSubscriber?.toFixed(1) ?? '?'} consumers each)`);
	}
	if (r.gaugeConsumersPerCore !== undefined) {
		lines.push(`node's capacity gauge: ${Math.round(r.gaugeConsumersPerCore)} consumers per core at its target` +
			(r.gaugeRatio !== undefined ? ` (${(r.gaugeRatio * 100).toFixed(0)} % of the load test's figure)` : ''));
	}
	return lines;
}
