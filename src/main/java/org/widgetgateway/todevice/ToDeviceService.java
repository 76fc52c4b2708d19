package org.widgetgateway.todevice;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;

import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

import org.springframework.stereotype.Service;

import org.widgetgateway.event.HomeserverFailures;
import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.observability.WidgetActions;
import org.widgetgateway.observability.WidgetActions.Action;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.widget.Widget;

/**
 * The widget API's {@code send_to_device} (MSC3819), with the reference host's checks,
 * order and messages. The gateway holds no encryption keys: it sends in the clear what a
 * widget asks to send in the clear, and refuses a request to encrypt, never sending it
 * unencrypted instead.
 */
@Service
public class ToDeviceService {

	private static final String FAILED = "Error sending event";

	private final HomeserverClient homeserver;

	private final HomeserverFailures failures;

	private final WidgetActions actions;

	/** This instance's own: two gateways in one process must not share it either. */
	private final String transactionPrefix = "wgd"
			+ HexFormat.of().formatHex(ByteBuffer.allocate(8).putLong(new SecureRandom().nextLong()).array()) + ".";

	private final AtomicLong transactions = new AtomicLong();

	ToDeviceService(HomeserverClient homeserver, HomeserverFailures failures, WidgetActions actions) {
		this.homeserver = homeserver;
		this.failures = failures;
		this.actions = actions;
	}

	/**
	 * Sends to-device messages for a widget.
	 * @param widget the calling widget
	 * @param data {@code {"type", "encrypted", "messages": {user: {device: content}}}}
	 * @return completes when the homeserver took them
	 */
	public Mono<Void> send(Widget widget, JsonNode data) {
		Action recorded = this.actions.start(widget.id(), "send_to_device");
		return this.actions.record(recorded, Mono.defer(() -> {
			JsonNode type = data.get("type");
			if (type == null || !type.isString() || type.stringValue().isEmpty()) {
				throw WidgetApiException.badRequest("M_MISSING_PARAM", "Invalid request - missing event type");
			}
			JsonNode messages = data.get("messages");
			if (messages == null || messages.isNull()) {
				throw WidgetApiException.badRequest("M_MISSING_PARAM", "Invalid request - missing event contents");
			}
			JsonNode encrypted = data.get("encrypted");
			if (encrypted == null || !encrypted.isBoolean()) {
				throw WidgetApiException.badRequest("M_MISSING_PARAM", "Invalid request - missing encryption flag");
			}
			if (!widget.capabilities().canSendToDevice(type.stringValue())) {
				throw WidgetApiException.forbidden("Cannot send to-device events of this type");
			}
			if (encrypted.booleanValue()) {
				throw WidgetApiException.badRequest("M_INVALID_PARAM", "Cannot send encrypted to-device messages",
						"Cannot send encrypted to-device messages: this host holds no encryption keys; send with "
								+ "encrypted: false, or from a client that holds keys of its own");
			}
			if (!messages.isObject() || !messages.valueStream()
				.allMatch((devices) -> devices.isObject() && devices.valueStream().allMatch(JsonNode::isObject))) {
				throw WidgetApiException.badRequest("M_BAD_JSON",
						"Invalid request - messages must map user ids to device ids (or *) to content objects");
			}
			return this.homeserver
				.sendToDevice(widget.account(), type.stringValue(),
						this.transactionPrefix + Long.toHexString(this.transactions.incrementAndGet()), messages)
				.doOnSuccess((done) -> recorded.calledHomeserver())
				.onErrorMap(HomeserverException.class, (ex) -> this.failures.toWidget(FAILED, ex, widget.account()));
		}));
	}

}
