/**
 * Raised hands (docs/protocol.md, hand.set / peer.hand): the Raise button
 * raises and lowers this participant's hand, and a hand shows on the tile of
 * whoever has it up (the peer list of room.join says who had it before).
 */
import type { Grid } from './Grid';
import type { Signaling } from './signaling';

export function wireHands(signaling: Signaling, grid: Grid, localId: () => string, problem: (text: string) => void): void {
	const button = document.getElementById('hand') as HTMLButtonElement;
	const label = button.querySelector('.label')!;
	let raised = false;
	const show = (up: boolean): void => {
		raised = up;
		button.setAttribute('aria-pressed', String(up));
		label.textContent = up ? 'Lower' : 'Raise';
		button.title = up ? 'Lower your hand' : 'Raise your hand';
		grid.setHand(localId(), up);
	};
	signaling.on('peer.hand', ({ peerId, raised: up }) => grid.setHand(peerId, up));
	button.addEventListener('click', () => {
		const up = !raised;
		signaling.request('hand.set', { raised: up }).then(() => show(up), (error: Error) => problem(`Your hand was not ${up ? 'raised' : 'lowered'}: ${error.message}`));
	});
}
