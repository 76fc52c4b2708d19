package org.widgetgateway.simulator;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.aot.AotDetector;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.core.env.MapPropertySource;

import org.widgetgateway.capability.Capabilities;

/**
 * With the simulator serving and no widget configured, configures the demo widget: id
 * {@code demo}, token {@code demo-token}, the simulator's room, and what MatrixRTC needs
 * (call member state events, delayed send and update) plus {@code m.room.message}; and
 * beside it a second call member that only watches, id {@code watcher}, token
 * {@code watcher-token}, which may read call member state events and
 * {@code m.room.message} in the same room and send nothing, so that one can see another
 * widget join and leave a call. They are configuration like any other, so they are bound
 * and checked as configured widgets are. Their tokens are public, so the gateway then
 * listens on loopback only (a jar started without configuration serves nobody outside its
 * machine), unless {@code server.address} is set. The ahead-of-time processed launch (the
 * container's) has no simulator: without a homeserver it is refused, naming the key.
 */
class DemoWidgetEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

	/** The demo widget's token. */
	static final String TOKEN = "demo-token";

	/** The watching widget's token. */
	static final String WATCHER_TOKEN = "watcher-token";

	/**
	 * Where the gateway listens while the demo widget serves, unless
	 * {@code server.address} says otherwise: its token is public, so only this machine
	 * may use it.
	 */
	static final String LOOPBACK = "127.0.0.1";

	private static final String RECEIVE_CALL_MEMBERS = "org.matrix.msc2762.receive.state_event:org.matrix.msc3401.call.member";

	private static final String RECEIVE_MESSAGES = "org.matrix.msc2762.receive.event:m.room.message";

	private static final String SEND_RTC_MEMBERS = "org.matrix.msc2762.send.event:org.matrix.msc4143.rtc.member";

	private static final String RECEIVE_RTC_MEMBERS = "org.matrix.msc2762.receive.event:org.matrix.msc4143.rtc.member";

	private static final String SOURCE = "homeserverSimulatorDemoWidget";

	private static final ConfigurationPropertyName WIDGETS = ConfigurationPropertyName.of("gateway.widgets");

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		boolean simulator = ConditionalOnSimulator.OnSimulatorCondition.isActive(environment);
		if (simulator && AotDetector.useGeneratedArtifacts()) {
			throw new InvalidConfigurationPropertyValueException("gateway.homeserver.base-url", null,
					"The ahead-of-time processed launch (-Dspring.aot.enabled=true) serves a real homeserver and has "
							+ "no simulator. Set it to your homeserver's URL, or start without "
							+ "-Dspring.aot.enabled=true (in the container: set JAVA_OPTS without it) to use the "
							+ "embedded simulator.");
		}
		if (!simulator || hasWidgets(environment)) {
			return;
		}
		Map<String, Object> demo = new LinkedHashMap<>();
		demo.put("gateway.widgets.demo.token", TOKEN);
		demo.put("gateway.widgets.demo.room-id", SimulatorConfiguration.DEMO_ROOM);
		demo.put("gateway.widgets.demo.capabilities[0]",
				"org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member");
		demo.put("gateway.widgets.demo.capabilities[1]", "org.matrix.msc4157.send.delayed_event");
		demo.put("gateway.widgets.demo.capabilities[2]", "org.matrix.msc4157.update_delayed_event");
		demo.put("gateway.widgets.demo.capabilities[3]", "org.matrix.msc2762.send.event:m.room.message");
		demo.put("gateway.widgets.demo.capabilities[4]", RECEIVE_CALL_MEMBERS);
		demo.put("gateway.widgets.demo.capabilities[5]", RECEIVE_MESSAGES);
		// MatrixRTC as Element Call speaks it today: sticky membership, transports,
		// LiveKit.
		demo.put("gateway.widgets.demo.capabilities[6]", SEND_RTC_MEMBERS);
		demo.put("gateway.widgets.demo.capabilities[7]", RECEIVE_RTC_MEMBERS);
		demo.put("gateway.widgets.demo.capabilities[8]", Capabilities.SEND_STICKY_EVENT);
		demo.put("gateway.widgets.demo.capabilities[9]", Capabilities.RECEIVE_STICKY_EVENT);
		demo.put("gateway.widgets.demo.capabilities[10]", Capabilities.RTC_TRANSPORTS);
		demo.put("gateway.widgets.demo.capabilities[11]", Capabilities.LIVEKIT_GET_TOKEN);
		demo.put("gateway.widgets.demo.capabilities[12]", Capabilities.LIVEKIT_DELEGATE_DELAYED_LEAVE);
		// Who is in the room, which matrix-js-sdk's MatrixRTC session checks.
		demo.put("gateway.widgets.demo.capabilities[13]", "org.matrix.msc2762.receive.state_event:m.room.member");
		demo.put("gateway.widgets.demo.capabilities[14]", "org.matrix.msc2762.receive.state_event:m.room.create");
		demo.put("gateway.widgets.demo.openid", "allowed");
		demo.put("gateway.widgets.watcher.token", WATCHER_TOKEN);
		demo.put("gateway.widgets.watcher.room-id", SimulatorConfiguration.DEMO_ROOM);
		demo.put("gateway.widgets.watcher.capabilities[0]", RECEIVE_CALL_MEMBERS);
		demo.put("gateway.widgets.watcher.capabilities[1]", RECEIVE_MESSAGES);
		demo.put("gateway.widgets.watcher.capabilities[2]", RECEIVE_RTC_MEMBERS);
		demo.put("gateway.widgets.watcher.capabilities[3]", Capabilities.RECEIVE_STICKY_EVENT);
		demo.put("server.address", LOOPBACK);
		environment.getPropertySources().addLast(new MapPropertySource(SOURCE, demo));
	}

	private static boolean hasWidgets(Environment environment) {
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
			if (source.containsDescendantOf(WIDGETS) == ConfigurationPropertyState.PRESENT) {
				return true;
			}
		}
		return false;
	}

	static boolean isDemoActive(Environment environment) {
		return environment instanceof ConfigurableEnvironment configurable
				&& configurable.getPropertySources().contains(SOURCE);
	}

	@Override
	public int getOrder() {
		return ConfigDataEnvironmentPostProcessor.ORDER + 1;
	}

}
