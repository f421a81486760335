/**
 * The microphone's level on a <meter>: a WebAudio AnalyserNode on the track,
 * read each animation frame (RMS of the waveform, quick to rise and slow to
 * fall). Nothing is played: the analyser is not connected to the speakers.
 */
export class LevelMeter {
	readonly #meter: HTMLMeterElement;
	#context: AudioContext | undefined;
	#source: MediaStreamAudioSourceNode | undefined;
	#analyser: AnalyserNode | undefined;
	#frame = 0;
	#closed = false;

	constructor(meter: HTMLMeterElement) {
		this.#meter = meter;
		// NOTE: a browser may keep an AudioContext made before any click suspended; the first touch resumes it.
		document.addEventListener('pointerdown', this.#resume, { capture: true });
	}

	/** Measures `track` (replacing the one before); undefined: nothing to measure, the meter rests at 0. */
	attach(track: MediaStreamTrack | undefined): void {
		this.#source?.disconnect();
		this.#source = undefined;
		this.#meter.value = 0;
		if (!track || this.#closed || typeof AudioContext === 'undefined') {
			return;
		}
		this.#context ??= new AudioContext();
		this.#resume();
		if (!this.#analyser) {
			this.#analyser = this.#context.createAnalyser();
			this.#analyser.fftSize = 1024;
		}
		this.#source = this.#context.createMediaStreamSource(new MediaStream([track]));
		this.#source.connect(this.#analyser);
		if (this.#frame === 0) {
			this.#frame = requestAnimationFrame(this.#tick);
		}
	}

	/** Stops measuring and closes the audio context; idempotent. */
	close(): void {
		this.#closed = true;
		cancelAnimationFrame(this.#frame);
		this.#source?.disconnect();
		void this.#context?.close().catch(() => undefined);
		this.#context = undefined;
		document.removeEventListener('pointerdown', this.#resume, { capture: true });
	}

	readonly #resume = (): void => {
		if (this.#context?.state === 'suspended') {
			void this.#context.resume().catch(() => undefined);
		}
	};

	readonly #tick = (): void => {
		const analyser = this.#analyser;
		if (this.#closed || !analyser) {
			return;
		}
		const samples = new Float32Array(analyser.fftSize);
		analyser.getFloatTimeDomainData(samples);
		let sum = 0;
		for (const sample of samples) {
			sum += sample * sample;
		}
		// Speech sits around an RMS of 0.02 to 0.2: scaled so that it fills most of the bar.
		const level = Math.min(1, Math.sqrt(sum / samples.length) * 5);
		this.#meter.value = this.#source ? Math.max(level, this.#meter.value * 0.9) : 0;
		this.#frame = requestAnimationFrame(this.#tick);
	};
}
