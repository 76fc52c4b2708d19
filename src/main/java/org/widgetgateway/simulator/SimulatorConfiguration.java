package org.widgetgateway.simulator;

import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.Set;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.WebSecurityCustomizer;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.firewall.StrictHttpFirewall;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.capability.Capabilities;

/**
 * Serves the homeserver simulator under {@code /_matrix/client/} on the gateway's own
 * port when no homeserver is configured. The gateway's homeserver client then calls it
 * over HTTP like any homeserver, so every widget request takes the real path.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnSimulator
class SimulatorConfiguration {

	/** The simulator's room, where the demo widget lives. */
	static final String DEMO_ROOM = "!demo:localhost";

	private static final Log logger = LogFactory.getLog(SimulatorConfiguration.class);

	@Bean
	Clock simulatorClock() {
		return Clock.systemUTC();
	}

	@Bean(destroyMethod = "shutdown")
	SimulatedHomeserver simulatedHomeserver(GatewayProperties properties, Clock simulatorClock) {
		Set<String> rooms = new LinkedHashSet<>();
		rooms.add(DEMO_ROOM);
		properties.widgets().values().forEach((widget) -> {
			rooms.add(widget.requiredRoomId());
			rooms.addAll(Capabilities.of(widget.capabilities()).namedTimelineRooms());
		});
		return new SimulatedHomeserver(rooms, simulatorClock);
	}

	/**
	 * The simulated homeserver checks its own access token, and its LiveKit JWT service
	 * stand-in the OpenID tokens it is given; the widget chain applies to neither.
	 */
	@Bean
	@Order(Ordered.HIGHEST_PRECEDENCE)
	SecurityFilterChain simulatorSecurityFilterChain(HttpSecurity http) {
		http.securityMatcher("/_matrix/**", SimulatedLivekitService.PATH + "/**")
			.authorizeHttpRequests((requests) -> requests.anyRequest().permitAll())
			.sessionManagement((sessions) -> sessions.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
			.csrf(AbstractHttpConfigurer::disable)
			.requestCache(AbstractHttpConfigurer::disable);
		return http.build();
	}

	/**
	 * State keys may contain {@code /} and {@code %}: the simulator must see them
	 * percent-encoded in one path segment, as a homeserver does.
	 */
	@Bean
	WebSecurityCustomizer simulatorEncodedPathSegments() {
		StrictHttpFirewall firewall = new StrictHttpFirewall();
		firewall.setAllowUrlEncodedSlash(true);
		firewall.setAllowUrlEncodedPercent(true);
		firewall.setAllowUrlEncodedPeriod(true);
		return (web) -> web.httpFirewall(firewall);
	}

	@Bean
	TomcatConnectorCustomizer simulatorEncodedSlashes() {
		return (connector) -> connector.setEncodedSolidusHandling("passthrough");
	}

	@Bean
	WebMvcConfigurer simulatorAccessToken(GatewayProperties properties) {
		return new WebMvcConfigurer() {

			@Override
			public void addInterceptors(InterceptorRegistry registry) {
				registry.addInterceptor(new SimulatorAccessTokenInterceptor(properties.homeserver().accessToken()))
					.addPathPatterns("/_matrix/client/**")
					.excludePathPatterns("/_matrix/client/versions");
			}

		};
	}

	@EventListener(ApplicationReadyEvent.class)
	void announce(ApplicationReadyEvent event) {
		Environment environment = event.getApplicationContext().getEnvironment();
		String base = "http://localhost:" + environment.getProperty("local.server.port", "8080");
		String demo = DemoWidgetEnvironmentPostProcessor.isDemoActive(environment)
				? "; try the demo widget: curl -H 'Authorization: Bearer " + DemoWidgetEnvironmentPostProcessor.TOKEN
						+ "' " + base
						+ "/v1/widget, and watch it with the watcher widget: curl -N -H 'Authorization: Bearer "
						+ DemoWidgetEnvironmentPostProcessor.WATCHER_TOKEN + "' " + base + "/v1/events (Swagger UI: "
						+ base + "/swagger-ui.html; their tokens are public, " + "so the gateway listens on "
						+ environment.getProperty("server.address", "all addresses")
						+ " only until widgets are configured)"
				: "; Swagger UI: " + base + "/swagger-ui.html";
		logger.info("Homeserver simulator active at " + base + "/_matrix/client (set gateway.homeserver.base-url for "
				+ "a real homeserver)" + demo);
	}

}
