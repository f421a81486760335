/** One observation of one worker: its consumers and the share of a core it used. */
export type CapacitySample = { consumers: number; cpu: number };

/**
 * Estimates, online, how many more consumers the node can take before its
 * workers reach a target CPU utilisation. It fits `cpu = idle + perConsumer x
 * consumers` over recent samples of every worker (least squares), so a
 * worker's idle cost does not pass for a per-consumer cost; with too little
 * spread in the samples to fit, it uses the busiest sample's ratio.
 */
export class CapacityEstimator {
	readonly #samples: CapacitySample[] = [];
	readonly #window: number;

	constructor({ window = 240 }: { window?: number } = {}) {
		this.#window = window;
	}

	add(sample: CapacitySample): void {
		this.#samples.push(sample);
		if (this.#samples.length > this.#window) {
			this.#samples.shift();
		}
	}

	/** Core share one consumer costs, or undefined before any consumer was seen. */
	cpuPerConsumer(): number | undefined {
		const loaded = this.#samples.filter((s) => s.consumers > 0);
		if (loaded.length === 0) {
			return undefined;
		}
		const n = this.#samples.length;
		const meanX = this.#samples.reduce((sum, s) => sum + s.consumers, 0) / n;
		const meanY = this.#samples.reduce((sum, s) => sum + s.cpu, 0) / n;
		let covariance = 0;
		let variance = 0;
		for (const s of this.#samples) {
			covariance += (s.consumers - meanX) * (s.cpu - meanY);
			variance += (s.consumers - meanX) ** 2;
		}
		const slope = variance > 0 ? covariance / variance : 0;
		// NOTE: a fit needs consumers to vary by a few; otherwise (or when noise
		// makes the slope non-positive) the busiest sample's ratio is the bound.
		if (slope > 0 && variance / n >= 4) {
			return slope;
		}
		const busiest = loaded.reduce((a, b) => (b.consumers > a.consumers ? b : a));
		return busiest.cpu > 0 ? busiest.cpu / busiest.consumers : undefined;
	}

	/** Consumers the workers can still take before each reaches `target` (0-1) of a core. */
	headroom(workers: readonly CapacitySample[], target: number): number | undefined {
		const perConsumer = this.cpuPerConsumer();
		if (perConsumer === undefined || perConsumer <= 0) {
			return undefined;
		}
		return Math.floor(workers.reduce((sum, w) => sum + Math.max(0, target - w.cpu) / perConsumer, 0));
	}
}
