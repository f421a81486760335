import os from 'node:os';
import { mediasoup } from './mediasoup';
import type { MediaConfig } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logging';
import { TypedEmitter } from '../util';
import { MEDIA_CODECS } from './codecs';
import { MediaWorker } from './MediaWorker';
import type { ms } from './mediasoup';

export type WorkerPoolEvents = {
	/** A worker died. Its routers are gone; a replacement is being started in its slot. */
	workerDied: [worker: MediaWorker, error: Error];
	/** A replacement worker is up in the slot of a dead one, on the same port. */
	workerReplaced: [worker: MediaWorker];
	/** An attempt to start a replacement failed; the pool tries again. */
	workerRestartFailed: [index: number, error: Error];
};

export type SlotState = 'up' | 'restarting' | 'closed';

export type Readiness = {
	ready: boolean;
	reason?: 'no_worker' | 'restart_failing' | 'closed';
	workers: { index: number; port: number; state: SlotState; pid?: number; restartFailures: number }[];
};

export type WorkerPoolOptions = {
	config: MediaConfig;
	logger: Logger;
};

type Slot = {
	index: number;
	port: number;
	state: SlotState;
	worker?: MediaWorker;
	restartFailures: number;
	restartTimer?: NodeJS.Timeout;
};

/** The number of workers `media.workers` asks for. */
export function resolveWorkerCount(setting: MediaConfig['workers']): number {
	return setting === 'auto' ? os.availableParallelism() : setting;
}

/**
 * A pool of mediasoup workers, one per slot, each with one WebRtcServer
 * listening on UDP and TCP at `media.port + index`. A worker that dies is
 * replaced in its slot on the same port; the process never exits for it.
 */
export class WorkerPool {
	/** For outside watchers (metrics): the pool has no owner that reacts to its events. */
	readonly observer: TypedEmitter<WorkerPoolEvents>;

	readonly #config: MediaConfig;
	readonly #logger: Logger;
	readonly #slots: Slot[] = [];
	#usageTimer?: NodeJS.Timeout;
	#closed = false;
	#restarts = 0;
	#routerRtpCapabilities: ms.RtpCapabilities | undefined;
	/** waitForWorker() callers, woken when a replacement worker is up. */
	readonly #waiting = new Set<() => void>();

	private constructor({ config, logger }: WorkerPoolOptions) {
		this.#config = config;
		this.#logger = logger.child({ module: 'workers' });
		this.observer = new TypedEmitter((event, error) => this.#logger.error('worker pool listener failed', { event, error }));
	}

	/**
	 * Starts every worker and its WebRtcServer. Fails, closing what it started,
	 * when any of them cannot start (a media port in use, say).
	 */
	static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
		const pool = new WorkerPool(options);
		const count = resolveWorkerCount(options.config.workers);
		try {
			for (let index = 0; index < count; index++) {
				const slot: Slot = { index, port: options.config.port + index, state: 'restarting', restartFailures: 0 };
				pool.#slots.push(slot);
				pool.#install(slot, await pool.#createWorker(slot));
			}
			// Every room's router has the same codecs, so the same capabilities:
			// clients load their Device with them before joining.
			const probe = await pool.#slots[0]!.worker!.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
			pool.#routerRtpCapabilities = probe.rtpCapabilities;
			probe.close();
		} catch (error) {
			await pool.close();
			throw error;
		}
		pool.#usageTimer = setInterval(() => void pool.sampleUsage(), options.config.usageIntervalMs);
		pool.#usageTimer.unref();
		pool.#logger.info('worker pool started', { workers: count, firstPort: options.config.port });
		return pool;
	}

	/** The RTP capabilities of every router made with MEDIA_CODECS. */
	get routerRtpCapabilities(): ms.RtpCapabilities {
		return this.#routerRtpCapabilities as ms.RtpCapabilities;
	}

	/** Live workers, in slot order. */
	get workers(): MediaWorker[] {
		return this.#slots.flatMap((slot) => (slot.state === 'up' && slot.worker ? [slot.worker] : []));
	}

	get size(): number {
		return this.#slots.length;
	}

	/** Replacement workers started since the pool started. */
	get restarts(): number {
		return this.#restarts;
	}

	/**
	 * The least-loaded live worker (see MediaWorker.score), ties going to the
	 * one with fewer routers, then the lower index.
	 * @throws AppError not_ready when no worker is up.
	 */
	pickWorker(options: { exclude?: ReadonlySet<number> } = {}): MediaWorker {
		let best: MediaWorker | undefined;
		for (const worker of this.workers) {
			if (options.exclude?.has(worker.index)) {
				continue;
			}
			if (!best || worker.score < best.score ||
				(worker.score === best.score && worker.load.routers < best.load.routers)) {
				best = worker;
			}
		}
		if (!best) {
			throw new AppError('not_ready', 'no media worker is available');
		}
		return best;
	}

	/**
	 * Resolves once a worker is up (at once if one is), or after `timeoutMs`
	 * without one. For callers that would rather wait out a replacement than
	 * fail: a client rebuilding after its worker died asks within milliseconds.
	 */
	async waitForWorker(timeoutMs: number): Promise<boolean> {
		if (this.workers.length > 0) {
			return true;
		}
		return new Promise((resolve) => {
			const done = (up: boolean) => {
				clearTimeout(timer);
				this.#waiting.delete(wake);
				resolve(up);
			};
			const wake = () => done(true);
			const timer = setTimeout(() => done(false), timeoutMs);
			this.#waiting.add(wake);
		});
	}

	/**
	 * Ready while a worker is up and no slot has failed to restart
	 * `restartFailuresBeforeUnready` times in a row. A single replacement under
	 * way does not make the node unready.
	 */
	readiness(): Readiness {
		const workers = this.#slots.map((slot) => ({
			index: slot.index,
			port: slot.port,
			state: slot.state,
			pid: slot.state === 'up' ? slot.worker?.pid : undefined,
			restartFailures: slot.restartFailures,
		}));
		if (this.#closed) {
			return { ready: false, reason: 'closed', workers };
		}
		if (this.#slots.some((slot) => slot.restartFailures >= this.#config.restartFailuresBeforeUnready)) {
			return { ready: false, reason: 'restart_failing', workers };
		}
		if (this.workers.length === 0) {
			return { ready: false, reason: 'no_worker', workers };
		}
		return { ready: true, workers };
	}

	/** Samples every live worker's CPU; returns CPU seconds per worker index. */
	async sampleUsage(): Promise<Map<number, number>> {
		const seconds = new Map<number, number>();
		await Promise.all(this.workers.map(async (worker) => {
			try {
				seconds.set(worker.index, await worker.sampleCpu());
			} catch (error) {
				// The worker died or closed between the listing and the request.
				this.#logger.debug('resource usage sample failed', { worker: worker.index, error });
			}
		}));
		return seconds;
	}

	/** Closes every worker. Idempotent. */
	async close(): Promise<void> {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		clearInterval(this.#usageTimer);
		for (const slot of this.#slots) {
			clearTimeout(slot.restartTimer);
			slot.state = 'closed';
			slot.worker?.worker.close();
		}
		this.#logger.info('worker pool closed');
	}

	async #createWorker(slot: Slot): Promise<MediaWorker> {
		const worker = await mediasoup.createWorker({
			logLevel: this.#config.workerLogLevel,
			appData: { index: slot.index },
		});
		try {
			const listen = {
				ip: this.#config.listenIp,
				announcedIp: this.#config.announcedAddress ?? undefined,
				port: slot.port,
			};
			const webRtcServer = await worker.createWebRtcServer({
				listenInfos: [{ protocol: 'udp', ...listen }, { protocol: 'tcp', ...listen }],
			});
			return new MediaWorker(slot.index, slot.port, worker, webRtcServer);
		} catch (error) {
			worker.close();
			throw new Error(`media port ${slot.port} (worker ${slot.index}): ${(error as Error).message}`, { cause: error });
		}
	}

	#install(slot: Slot, worker: MediaWorker): void {
		slot.worker = worker;
		slot.state = 'up';
		slot.restartFailures = 0;
		worker.worker.on('died', (error: Error) => this.#onDied(slot, worker, error));
		this.#logger.info('worker up', { worker: slot.index, pid: worker.pid, port: slot.port });
	}

	#onDied(slot: Slot, worker: MediaWorker, error: Error): void {
		if (this.#closed || slot.worker !== worker) {
			return;
		}
		slot.state = 'restarting';
		this.#logger.error('worker died', { worker: slot.index, pid: worker.pid, error: error.message });
		this.observer.safeEmit('workerDied', worker, error);
		this.#scheduleRestart(slot, this.#config.restartDelayMs);
	}

	#scheduleRestart(slot: Slot, delayMs: number): void {
		slot.restartTimer = setTimeout(() => void this.#restart(slot, delayMs), delayMs);
	}

	async #restart(slot: Slot, delayMs: number): Promise<void> {
		if (this.#closed) {
			return;
		}
		let worker: MediaWorker;
		try {
			worker = await this.#createWorker(slot);
		} catch (error) {
			slot.restartFailures++;
			this.#logger.error('worker restart failed', {
				worker: slot.index, failures: slot.restartFailures, error: (error as Error).message,
			});
			this.observer.safeEmit('workerRestartFailed', slot.index, error as Error);
			const next = Math.min(Math.max(delayMs * 2, 100), this.#config.restartMaxDelayMs);
			this.#scheduleRestart(slot, next);
			return;
		}
		if (this.#closed) {
			worker.worker.close();
			return;
		}
		this.#restarts++;
		this.#install(slot, worker);
		for (const wake of [...this.#waiting]) {
			wake();
		}
		this.observer.safeEmit('workerReplaced', worker);
	}
}
