/**
 * The scaling benchmark's figures, from the steps of its load runs
 * (scripts/loadtest/run.ts): the cost of a forwarded packet, the cost of a
 * broadcast's subscriber on each node, and the latency of a pipe hop.
 */
import { fitCpu, type StepResult } from '../loadtest/run';

/** Steps whose workers (all on one core) stayed within `cpuLimit` of it, lost nothing to speak of and had every consumer. */
export function measurable(steps: readonly StepResult[], cpuLimit: number, maxLoss: number): StepResult[] {
	return steps.filter((s) => sum(s.workerCpu) <= cpuLimit && s.loss <= maxLoss && s.errors.length === 0 && s.consumers >= s.expectedConsumers);
}

export const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * µs of worker CPU per packet delivered to the sink, all nodes' workers
 * together: the slope of their CPU against packets/s over the steps and the
 * idle point (no load: `idleCpu` at 0 packets/s), so that idle costs fall out.
 */
export function usPerPacket(steps: readonly StepResult[], idleCpu: number): { us: number; points: number } | undefined {
	const points = [{ consumers: 0, cpu: idleCpu }, ...steps.map((s) => ({ consumers: s.packetsPerSecond, cpu: sum(s.workerCpu) }))];
	const fit = fitCpu(points);
	return fit ? { us: fit.cpuPerConsumer * 1e6, points: steps.length } : undefined;
}

export type NodeCost = {
	node: number;
	/** Worker CPU per subscriber on this node: µs of CPU each second (the fit's slope × 10^6). */
	cpuUsPerSubscriberSecond: number;
	idleCpu: number;
	/** Derived, not measured: (targetCpu - idle) / slope, the capacity estimator's fit carried to the target. */
	subscribersPerCoreDerived: number;
	points: number;
};

/** Per node: its worker's CPU against its subscribers over the steps (the capacity estimator's linear fit). */
export function perNodeCost(steps: readonly StepResult[], targetCpu: number): NodeCost[] {
	const nodes = steps[0]?.workerCpu.length ?? 0;
	return Array.from({ length: nodes }, (_, node) => {
		const points = steps.map((s) => ({ consumers: s.perWorker?.[node]?.subscribers ?? 0, cpu: s.workerCpu[node] ?? 0 }));
		const fit = fitCpu(points);
		return fit ? {
			node: node + 1, cpuUsPerSubscriberSecond: fit.cpuPerConsumer * 1e6, idleCpu: fit.idleCpu,
			subscribersPerCoreDerived: (targetCpu - fit.idleCpu) / fit.cpuPerConsumer, points: points.length,
		} : undefined;
	}).filter((cost): cost is NodeCost => cost !== undefined);
}

export type Percentiles = { p50: number; p95: number; samples: number };

export function percentiles(values: number[]): Percentiles | undefined {
	if (values.length === 0) {
		return undefined;
	}
	const sorted = [...values].sort((a, b) => a - b);
	const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
	return { p50: at(0.5), p95: at(0.95), samples: sorted.length };
}

/**
 * One-way latency of the broadcaster's audio, publisher's send to the sink's
 * arrival, split by the node its consumer is on. Both ends are this process's
 * event loop (so its delays are in both paths alike); RTP timestamps match the
 * packets up, as mediasoup passes them on unchanged for audio.
 */
export class LatencyProbe {
	readonly #sentAt = new Map<number, number>();
	readonly #nodeOf = new Map<number, number>();
	readonly #samples: { node: number; at: number; ms: number }[] = [];

	/** A packet of the broadcaster's audio left (RTP timestamp). */
	sent(timestamp: number): void {
		this.#sentAt.set(timestamp, performance.now());
		// Ten seconds of 20 ms frames: older ones have arrived or never will.
		for (const key of this.#sentAt.keys()) {
			if (this.#sentAt.size <= 500) {
				break;
			}
			this.#sentAt.delete(key);
		}
	}

	/** An audio consumer on `node` sends with `ssrc`. */
	consumer(node: number, ssrc: number): void {
		this.#nodeOf.set(ssrc, node);
	}

	arrived(ssrc: number, timestamp: number, at: number): void {
		const node = this.#nodeOf.get(ssrc);
		const sent = node === undefined ? undefined : this.#sentAt.get(timestamp);
		if (sent !== undefined) {
			this.#samples.push({ node: node!, at, ms: at - sent });
		}
	}

	/** Per node, the samples of the last `seconds`; the older ones are dropped. */
	window(seconds: number, nodes: number): (Percentiles | undefined)[] {
		const since = performance.now() - seconds * 1000;
		const recent = this.#samples.splice(0).filter((s) => s.at >= since);
		return Array.from({ length: nodes }, (_, node) => percentiles(recent.filter((s) => s.node === node).map((s) => s.ms)));
	}
}
