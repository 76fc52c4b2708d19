package org.widgetgateway.capability;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

import org.widgetgateway.capability.EventCapability.Direction;

/**
 * The capabilities granted to one widget, parsed once and asked what they allow. Matching
 * follows the reference widget host: see {@link EventCapability} for event capabilities;
 * timeline capabilities name a room or {@code *}; the MSC4157 delayed-event capabilities
 * are recognised in their unstable, stable and older spellings; the sticky-event
 * (MSC4407) and MatrixRTC (MSC4515, MSC4533) capabilities by their one name each.
 */
public final class Capabilities {

	/** Schedule delayed events (MSC4157, unstable name). */
	public static final String SEND_DELAYED_EVENT = "org.matrix.msc4157.send.delayed_event";

	/** Cancel, restart or send delayed events (MSC4157, unstable name). */
	public static final String UPDATE_DELAYED_EVENT = "org.matrix.msc4157.update_delayed_event";

	/** Send sticky events (MSC4407, unstable name). */
	public static final String SEND_STICKY_EVENT = "org.matrix.msc4407.send.sticky_event";

	/** Receive sticky events, and the current ones when a stream opens (MSC4407). */
	public static final String RECEIVE_STICKY_EVENT = "org.matrix.msc4407.receive.sticky_event";

	/** Ask for the homeserver's MatrixRTC transports (MSC4515). */
	public static final String RTC_TRANSPORTS = "org.matrix.msc4515.rtc_transports";

	/** Get a LiveKit token for a MatrixRTC slot (MSC4533). */
	public static final String LIVEKIT_GET_TOKEN = "org.matrix.msc4533.rtc_livekit_get_token";

	/** Hand a delayed leave to the LiveKit side (MSC4533). */
	public static final String LIVEKIT_DELEGATE_DELAYED_LEAVE = "org.matrix.msc4533.rtc_livekit_delegate_delayed_leave";

	/** The capabilities of MSC4407, MSC4515 and MSC4533, each with one spelling. */
	private static final Set<String> RTC_NAMES = Set.of(SEND_STICKY_EVENT, RECEIVE_STICKY_EVENT, RTC_TRANSPORTS,
			LIVEKIT_GET_TOKEN, LIVEKIT_DELEGATE_DELAYED_LEAVE);

	private static final Set<String> SEND_DELAYED_EVENT_NAMES = Set.of(SEND_DELAYED_EVENT, "m.send.delayed_event",
			"m.send.delay_events");

	private static final Set<String> UPDATE_DELAYED_EVENT_NAMES = Set.of(UPDATE_DELAYED_EVENT, "m.update_delayed_event",
			"org.matrix.msc4157.update.delayed_event");

	private static final String TIMELINE_PREFIX = "org.matrix.msc2762.timeline:";

	private static final String SEND_TO_DEVICE_PREFIX = "org.matrix.msc3819.send.to_device:";

	private static final String RECEIVE_TO_DEVICE_PREFIX = "org.matrix.msc3819.receive.to_device:";

	/** Keep the widget on screen (a host without a screen has nothing to keep). */
	public static final String ALWAYS_ON_SCREEN = "m.always_on_screen";

	/** Watch the homeserver's TURN servers (MSC3846). */
	public static final String TURN_SERVERS = "town.robin.msc3846.turn_servers";

	private static final String ANY_ROOM = "*";

	private final List<String> granted;

	private final List<EventCapability> events;

	private final Set<String> timelineRooms;

	private final boolean sendDelayedEvent;

	private final boolean updateDelayedEvent;

	private Capabilities(Collection<String> granted) {
		this.granted = List.copyOf(new LinkedHashSet<>(granted));
		this.events = this.granted.stream().map(EventCapability::parse).flatMap(Optional::stream).toList();
		this.timelineRooms = Set.copyOf(this.granted.stream()
			.filter((capability) -> capability.startsWith(TIMELINE_PREFIX))
			.map((capability) -> capability.substring(TIMELINE_PREFIX.length()))
			.toList());
		this.sendDelayedEvent = this.granted.stream().anyMatch(SEND_DELAYED_EVENT_NAMES::contains);
		this.updateDelayedEvent = this.granted.stream().anyMatch(UPDATE_DELAYED_EVENT_NAMES::contains);
	}

	/**
	 * Parses a grant. Capabilities that the gateway does not act on are kept as they are,
	 * so that a widget asking for them can be told they were granted.
	 * @param granted the capability strings
	 * @return the parsed grant
	 */
	public static Capabilities of(Collection<String> granted) {
		return new Capabilities(granted);
	}

	/**
	 * Checks that a capability is well formed, for configuration. Capabilities outside
	 * the MSC2762 and MSC4157 namespaces are taken as they are.
	 * @param capability the capability string
	 * @return why the capability is malformed, or empty when it is well formed
	 */
	public static Optional<String> problemWith(String capability) {
		if (capability.isBlank() || !capability.strip().equals(capability)
				|| capability.chars().anyMatch(Character::isWhitespace)) {
			return Optional.of("a capability is one word with no spaces");
		}
		if (capability.startsWith(TIMELINE_PREFIX)) {
			String room = capability.substring(TIMELINE_PREFIX.length());
			if (!room.equals(ANY_ROOM) && !RoomIds.isRoomId(room)) {
				return Optional.of("a timeline capability names a room id ('!room:server') or '*'");
			}
			return Optional.empty();
		}
		if (capability.startsWith("org.matrix.msc2762.")) {
			Optional<EventCapability> event = EventCapability.parse(capability);
			if (event.isEmpty()) {
				return Optional.of("unknown MSC2762 capability; use send.event:<type>, send.state_event:<type>, "
						+ "receive.event:<type>, receive.state_event:<type> or timeline:<room>");
			}
			return event.get().type().isEmpty() ? Optional.of("the event type is missing") : Optional.empty();
		}
		if (capability.startsWith("org.matrix.msc4157.") || capability.startsWith("m.send.delay")
				|| capability.startsWith("m.update_delay")) {
			if (SEND_DELAYED_EVENT_NAMES.contains(capability) || UPDATE_DELAYED_EVENT_NAMES.contains(capability)) {
				return Optional.empty();
			}
			return Optional
				.of("unknown delayed-event capability; use " + SEND_DELAYED_EVENT + " or " + UPDATE_DELAYED_EVENT);
		}
		if (capability.startsWith("org.matrix.msc3819.")) {
			String type = capability.startsWith(SEND_TO_DEVICE_PREFIX)
					? capability.substring(SEND_TO_DEVICE_PREFIX.length())
					: capability.startsWith(RECEIVE_TO_DEVICE_PREFIX)
							? capability.substring(RECEIVE_TO_DEVICE_PREFIX.length()) : null;
			if (type == null) {
				return Optional.of("unknown to-device capability; use " + SEND_TO_DEVICE_PREFIX + "<type> or "
						+ RECEIVE_TO_DEVICE_PREFIX + "<type>");
			}
			return type.isEmpty() ? Optional.of("the event type is missing") : Optional.empty();
		}
		if (capability.startsWith("org.matrix.msc4407.") || capability.startsWith("org.matrix.msc4515.")
				|| capability.startsWith("org.matrix.msc4533.")) {
			return RTC_NAMES.contains(capability) ? Optional.empty()
					: Optional.of("unknown sticky-event or MatrixRTC capability; use one of "
							+ RTC_NAMES.stream().sorted().collect(Collectors.joining(", ")));
		}
		return Optional.empty();
	}

	/** The granted capability strings, as configured. */
	public List<String> asList() {
		return this.granted;
	}

	/** Whether the widget may send a state event of this type with this state key. */
	public boolean canSendStateEvent(String type, String stateKey) {
		return this.events.stream().anyMatch((event) -> event.allowsStateEvent(Direction.SEND, type, stateKey));
	}

	/**
	 * Whether the widget may send a room event of this type; for {@code m.room.message}
	 * the {@code msgtype} of its content counts.
	 */
	public boolean canSendRoomEvent(String type, @Nullable String msgtype) {
		return this.events.stream().anyMatch((event) -> event.allowsRoomEvent(Direction.SEND, type, msgtype));
	}

	/**
	 * Whether the widget may read state events of this type: with this state key, or with
	 * any key when {@code stateKey} is {@code null} (which needs a capability without a
	 * key).
	 */
	public boolean canReceiveStateEvent(String type, @Nullable String stateKey) {
		return this.events.stream()
			.anyMatch((event) -> (stateKey != null) ? event.allowsStateEvent(Direction.RECEIVE, type, stateKey)
					: event.allowsAnyStateKey(Direction.RECEIVE, type));
	}

	/**
	 * Whether the widget may read room events of this type; for {@code m.room.message}
	 * with this {@code msgtype}, or with any when {@code msgtype} is {@code null} (which
	 * needs a capability without a msgtype).
	 */
	public boolean canReceiveRoomEvent(String type, @Nullable String msgtype) {
		return this.events.stream().anyMatch((event) -> event.allowsRoomEvent(Direction.RECEIVE, type, msgtype));
	}

	/** The state event types the widget may read, whatever the state key. */
	public Set<String> receivedStateTypes() {
		return this.events.stream()
			.filter((event) -> event.direction() == Direction.RECEIVE && event.state())
			.map(EventCapability::type)
			.collect(Collectors.toUnmodifiableSet());
	}

	/** The event types the widget may read or receive, state or not. */
	public Set<String> receivedTypes() {
		return this.events.stream()
			.filter((event) -> event.direction() == Direction.RECEIVE)
			.map(EventCapability::type)
			.collect(Collectors.toUnmodifiableSet());
	}

	/** Whether the widget may act in the given room besides its own. */
	public boolean canUseTimeline(String roomId) {
		return this.timelineRooms.contains(ANY_ROOM) || this.timelineRooms.contains(roomId);
	}

	/** The rooms that timeline capabilities name, without {@code *}. */
	public Set<String> namedTimelineRooms() {
		return this.timelineRooms.stream().filter(RoomIds::isRoomId).collect(Collectors.toUnmodifiableSet());
	}

	/** Whether the widget may schedule delayed events. */
	public boolean canSendDelayedEvent() {
		return this.sendDelayedEvent;
	}

	/**
	 * Whether the widget holds a capability of exactly this name, such as
	 * {@link #SEND_STICKY_EVENT} or {@link #RTC_TRANSPORTS}.
	 */
	public boolean has(String capability) {
		return this.granted.contains(capability);
	}

	/** Whether the widget may send to-device messages of this type (MSC3819). */
	public boolean canSendToDevice(String type) {
		return this.granted.contains(SEND_TO_DEVICE_PREFIX + type);
	}

	/** Whether the widget may receive to-device messages of this type (MSC3819). */
	public boolean canReceiveToDevice(String type) {
		return this.granted.contains(RECEIVE_TO_DEVICE_PREFIX + type);
	}

	/** Whether the widget may cancel, restart or send its delayed events. */
	public boolean canUpdateDelayedEvent() {
		return this.updateDelayedEvent;
	}

	/**
	 * The requested capabilities that this grant covers, in the order asked, each once. A
	 * request narrower than a grant (a state key where any is granted) is covered; an
	 * alias of a delayed-event capability is covered by any of its spellings.
	 * @param requested the capabilities a widget asks for
	 * @return the approved subset, in the widget's spelling
	 */
	public List<String> approve(Collection<String> requested) {
		return requested.stream().distinct().filter(this::covers).toList();
	}

	private boolean covers(String requested) {
		if (this.granted.contains(requested)) {
			return true;
		}
		if (SEND_DELAYED_EVENT_NAMES.contains(requested)) {
			return this.sendDelayedEvent;
		}
		if (UPDATE_DELAYED_EVENT_NAMES.contains(requested)) {
			return this.updateDelayedEvent;
		}
		if (requested.startsWith(TIMELINE_PREFIX)) {
			return this.timelineRooms.contains(ANY_ROOM);
		}
		return EventCapability.parse(requested)
			.map((wanted) -> this.events.stream().anyMatch((event) -> event.covers(wanted)))
			.orElse(false);
	}

	/**
	 * Whether a capability is one of the delayed-event capabilities, in any spelling.
	 * @param capability the capability string
	 * @return whether it grants scheduling or updating delayed events
	 */
	public static boolean isDelayedEventCapability(String capability) {
		return SEND_DELAYED_EVENT_NAMES.contains(capability) || UPDATE_DELAYED_EVENT_NAMES.contains(capability);
	}

	@Override
	public String toString() {
		return this.granted.toString();
	}

}
