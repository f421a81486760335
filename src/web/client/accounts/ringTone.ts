/** The ring cadence: 440 + 480 Hz (the North American ring), on 1.2 s, off 2.8 s. */
const TONES_HZ = [440, 480];
const ON_S = 1.2;
const PERIOD_S = 4;
const VOLUME = 0.12;

/**
 * A ring tone made with WebAudio: no audio file to ship or fetch. Each ring
 * is scheduled on the audio clock (no timer jitter) a period ahead.
 * NOTE: a browser may keep the AudioContext suspended until the user has
 * touched the page; the incoming-call screen still shows, silently.
 */
export class RingTone {
	#context?: AudioContext;
	#timer?: ReturnType<typeof setInterval>;

	get playing(): boolean {
		return this.#timer !== undefined;
	}

	start(): void {
		if (this.playing || typeof AudioContext !== 'function') {
			return;
		}
		const context = this.#context ??= new AudioContext();
		void context.resume().catch(() => undefined);
		let next = context.currentTime + 0.05;
		const schedule = () => {
			// Keep one period scheduled ahead of the clock.
			while (next < context.currentTime + PERIOD_S) {
				this.#ring(context, next);
				next += PERIOD_S;
			}
		};
		schedule();
		this.#timer = setInterval(schedule, 1000);
	}

	stop(): void {
		clearInterval(this.#timer);
		this.#timer = undefined;
		// Closing drops the rings already scheduled.
		void this.#context?.close().catch(() => undefined);
		this.#context = undefined;
	}

	#ring(context: AudioContext, at: number): void {
		const gain = context.createGain();
		gain.gain.setValueAtTime(0, at);
		// Short ramps: no click at either end.
		gain.gain.linearRampToValueAtTime(VOLUME, at + 0.02);
		gain.gain.setValueAtTime(VOLUME, at + ON_S - 0.02);
		gain.gain.linearRampToValueAtTime(0, at + ON_S);
		gain.connect(context.destination);
		for (const frequency of TONES_HZ) {
			const oscillator = context.createOscillator();
			oscillator.frequency.value = frequency;
			oscillator.connect(gain);
			oscillator.start(at);
			oscillator.stop(at + ON_S);
		}
	}
}
