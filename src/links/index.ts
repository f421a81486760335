export { CallLinks, isLinkRoom, LINK_ROOM_PREFIX, linkRoomId, type LinkAdmit, type LinkLookup, type OwnLink } from './CallLinks';
export { LocalKnocks, type Knock, type Knocker, type Knocks } from './Knocks';
export { LinkLobby, NO_SUCH_LINK, type Entry, type KnockView, type Visitor } from './LinkLobby';
export { RedisKnocks } from './RedisKnocks';
