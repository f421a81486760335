/**
 * The pre-join screen's markup, made here rather than in the page shell
 * (pages.ts): only a room page opened without `?name=` shows it. Static
 * text only; the room id and the name go in as text, never as markup.
 */
const HTML = `<div class="prejoin-media">
	<div class="prejoin-preview" id="prejoin-preview">
		<video id="prejoin-video" autoplay playsinline muted></video>
		<p class="prejoin-off" id="prejoin-video-off">Camera is off</p>
		<div class="prejoin-toggles">
			<button type="button" id="prejoin-mic" aria-pressed="false"></button>
			<button type="button" id="prejoin-cam" aria-pressed="false"></button>
		</div>
	</div>
	<div class="prejoin-problem" id="prejoin-problem" role="alert" hidden>
		<h2 id="prejoin-problem-title"></h2>
		<p id="prejoin-problem-text"></p>
		<button type="button" id="prejoin-retry">Try again</button>
	</div>
	<label class="prejoin-level" id="prejoin-level-field">Microphone level <meter id="prejoin-level" min="0" max="1" low="0.15" high="0.8" optimum="0.5" value="0"></meter></label>
</div>
<form class="card prejoin-form" id="prejoin-form">
	<h1>Ready to join? <span class="prejoin-room" id="prejoin-room"></span></h1>
	<label>Your name <input id="prejoin-name" name="name" required maxlength="64" autocomplete="nickname" placeholder="Ada"></label>
	<div class="prejoin-devices" id="prejoin-devices">
		<label>Camera <select id="prejoin-camera-select"></select></label>
		<label>Microphone <select id="prejoin-mic-select"></select></label>
		<label id="prejoin-speaker-field" hidden>Speaker <select id="prejoin-speaker-select"></select></label>
	</div>
	<p class="prejoin-note" id="prejoin-note" hidden></p>
	<button type="submit" id="prejoin-join">Join</button>
	<p class="prejoin-private">Nothing is sent until you press Join.</p>
</form>`;

/** The screen, before the room view (#app), which it hides until Join. */
export function mountPreJoin(roomId: string): HTMLElement {
	const section = document.createElement('section');
	section.className = 'prejoin';
	section.id = 'prejoin';
	section.setAttribute('aria-label', 'Before you join');
	section.dataset.state = 'starting';
	section.innerHTML = HTML;
	section.querySelector('#prejoin-room')!.textContent = roomId;
	const app = document.getElementById('app')!;
	app.hidden = true;
	app.before(section);
	return section;
}

/** An element of the screen by id. */
export function el<T extends HTMLElement>(id: string): T {
	return document.getElementById(id) as T;
}
