import type { ms } from './mediasoup';

/**
 * What a worker carries. Counts follow mediasoup's observers as objects are
 * created and closed; `cpu` is the share of one core the worker used over the
 * last sampling interval (getResourceUsage deltas).
 */
export type WorkerLoad = {
	routers: number;
	transports: number;
	producers: number;
	consumers: number;
	/** The same counts by media kind. */
	byKind: Record<'audio' | 'video', { producers: number; consumers: number }>;
	cpu: number;
};

/**
 * The number of forwarded streams (producers + consumers) that mediasoup's
 * guidance puts on one worker (about 500 consumers per core). It turns counts
 * into an estimated share of a core, comparable with measured CPU.
 */
export const STREAMS_PER_CORE_ESTIMATE = 500;

/**
 * A CPU sample over less time than this is not taken: the pool's timer and the
 * metrics' timer both sample, and a few milliseconds between them measured
 * mostly the kernel's CPU accounting granularity (0 % or 100 % of a core).
 */
const MIN_CPU_SAMPLE_MS = 250;

/** A live mediasoup worker in a pool slot, with its single-port WebRtcServer. */
export class MediaWorker {
	readonly index: number;
	readonly port: number;
	readonly worker: ms.Worker;
	readonly webRtcServer: ms.WebRtcServer;
	readonly load: WorkerLoad = {
		routers: 0, transports: 0, producers: 0, consumers: 0, cpu: 0,
		byKind: { audio: { producers: 0, consumers: 0 }, video: { producers: 0, consumers: 0 } },
	};
	/** CPU seconds the worker has used, as of the last sample. */
	cpuSeconds = 0;
	/** How many `load.cpu` samples were taken: a new one is a fresh measurement. */
	cpuSamples = 0;
	/** Whether the consumer count was the same at both ends of the last sample's interval (not a ramp). */
	cpuSampleSteady = false;

	#lastCpuMs: number | undefined;
	#lastSampleAt: number | undefined;
	#consumersAtLastSample = 0;

	constructor(index: number, port: number, worker: ms.Worker, webRtcServer: ms.WebRtcServer) {
		this.index = index;
		this.port = port;
		this.worker = worker;
		this.webRtcServer = webRtcServer;
		this.#countObjects();
	}

	get pid(): number {
		return this.worker.pid;
	}

	get alive(): boolean {
		return !this.worker.closed && !this.worker.died;
	}

	/**
	 * The worker's estimated share of a core: the larger of measured CPU and
	 * the share its stream count predicts. Counts react at once to a burst of
	 * joins that CPU sampling has not seen yet; CPU catches what counts miss.
	 */
	get score(): number {
		const streams = this.load.producers + this.load.consumers;
		return Math.max(this.load.cpu, streams / STREAMS_PER_CORE_ESTIMATE);
	}

	/** Samples getResourceUsage and updates `load.cpu`; returns the CPU seconds used so far. */
	async sampleCpu(now = Date.now()): Promise<number> {
		const usage = await this.worker.getResourceUsage();
		const cpuMs = usage.ru_utime + usage.ru_stime;
		this.cpuSeconds = cpuMs / 1000;
		if (this.#lastCpuMs !== undefined && this.#lastSampleAt !== undefined) {
			if (now - this.#lastSampleAt < MIN_CPU_SAMPLE_MS) {
				return this.cpuSeconds;
			}
			this.load.cpu = Math.max(0, (cpuMs - this.#lastCpuMs) / (now - this.#lastSampleAt));
			this.cpuSamples++;
			this.cpuSampleSteady = this.load.consumers === this.#consumersAtLastSample;
		}
		this.#lastCpuMs = cpuMs;
		this.#lastSampleAt = now;
		this.#consumersAtLastSample = this.load.consumers;
		return this.cpuSeconds;
	}

	#countObjects(): void {
		const { load } = this;
		this.worker.observer.on('newrouter', (router: ms.Router) => {
			load.routers++;
			router.observer.once('close', () => load.routers--);
			router.observer.on('newtransport', (transport: ms.Transport) => {
				load.transports++;
				transport.observer.once('close', () => load.transports--);
				transport.observer.on('newproducer', (producer: ms.Producer) => {
					load.producers++;
					load.byKind[producer.kind].producers++;
					producer.observer.once('close', () => {
						load.producers--;
						load.byKind[producer.kind].producers--;
					});
				});
				transport.observer.on('newconsumer', (consumer: ms.Consumer) => {
					load.consumers++;
					load.byKind[consumer.kind].consumers++;
					consumer.observer.once('close', () => {
						load.consumers--;
						load.byKind[consumer.kind].consumers--;
					});
				});
			});
		});
	}
}
