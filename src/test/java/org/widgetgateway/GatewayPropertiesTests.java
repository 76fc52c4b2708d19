package org.widgetgateway;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import org.widgetgateway.widget.WidgetRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Startup fails, naming the key, on every misconfiguration the README's configuration
 * section names.
 */
class GatewayPropertiesTests {

	/** A plain token long enough for a real homeserver, for widget {@code ec}. */
	private static final String EC_TOKEN = "gateway.widgets.ec.token=" + "ec-secret-".repeat(4);

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withUserConfiguration(PropertiesConfiguration.class)
		.withPropertyValues("gateway.widgets.ec.token=secret", "gateway.widgets.ec.room-id=!abc:example.org",
				"gateway.widgets.ec.capabilities[0]=org.matrix.msc4157.send.delayed_event");

	@Test
	void validConfigurationBinds() {
		this.runner
			.withPropertyValues("gateway.homeserver.base-url=https://matrix.example.org",
					"gateway.homeserver.access-token=syt_abc", EC_TOKEN, "gateway.widgets.ec.max-delay=1h")
			.run((context) -> {
				GatewayProperties properties = context.getBean(GatewayProperties.class);
				assertThat(properties.homeserver().baseUrl()).isEqualTo("https://matrix.example.org");
				assertThat(properties.homeserver().connectTimeout()).isEqualTo(Duration.ofSeconds(2));
				assertThat(properties.homeserver().responseTimeout()).isEqualTo(Duration.ofSeconds(10));
				assertThat(properties.homeserver().retryBudget()).isEqualTo(Duration.ofMillis(1500));
				assertThat(properties.homeserver().discoveryRefresh()).isEqualTo(Duration.ofMinutes(10));
				assertThat(properties.homeserver().pool().maxIdleTime()).isEqualTo(Duration.ofSeconds(30));
				assertThat(properties.homeserver().circuitBreaker().openFor()).isEqualTo(Duration.ofSeconds(10));
				assertThat(properties.homeserver().longestWait()).isEqualTo(Duration.ofMillis(33500));
				assertThat(properties.widgets().get("ec").maxDelay()).isEqualTo(Duration.ofHours(1));
				assertThat(properties.widgets().get("ec").capabilities())
					.containsExactly("org.matrix.msc4157.send.delayed_event");
			});
	}

	@Test
	void roomOfRoomVersion12WithoutServerPartIsAWidgetsRoom() {
		this.runner.withPropertyValues("gateway.widgets.ec.room-id=!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM",
				"gateway.widgets.ec.capabilities[1]=org.matrix.msc2762.timeline:!7oVa1YvV6P2bVn8v4BzJ3uvAZo2V3JfTyU")
			.run((context) -> assertThat(context.getBean(GatewayProperties.class).widgets().get("ec").roomId())
				.isEqualTo("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"));
	}

	@Test
	void delayIdKeyMustBeALongSecret() {
		this.runner.withPropertyValues("gateway.delay-id-key=short")
			.run((context) -> assertFailure(context,
					"gateway.delay-id-key must be a random secret of at least 32 characters"));
	}

	@Test
	void delayIdKeyIsDerivedFromTheAccessTokenUnlessSet() {
		this.runner.withPropertyValues("gateway.homeserver.access-token=syt_one").run((one) -> {
			byte[] derived = one.getBean(GatewayProperties.class).delayIdKeyBytes();
			this.runner.withPropertyValues("gateway.homeserver.access-token=syt_one")
				.run((same) -> assertThat(same.getBean(GatewayProperties.class).delayIdKeyBytes()).isEqualTo(derived));
			this.runner.withPropertyValues("gateway.homeserver.access-token=syt_two")
				.run((other) -> assertThat(other.getBean(GatewayProperties.class).delayIdKeyBytes())
					.isNotEqualTo(derived));
		});
		this.runner.withPropertyValues("gateway.delay-id-key=" + DelayIdsForTests.KEY)
			.run((context) -> assertThat(context.getBean(GatewayProperties.class).delayIdKeyBytes())
				.isEqualTo(DelayIdsForTests.KEY.getBytes(StandardCharsets.UTF_8)));
	}

	@Test
	void accountOfItsOwnNeedsARealHomeserver() {
		this.runner.withPropertyValues("gateway.widgets.ec.homeserver-access-token=syt_own")
			.run((context) -> assertFailure(context, "gateway.widgets.ec.homeserver-access-token needs "
					+ "gateway.homeserver.base-url: the embedded simulator has one account, the gateway's"));
	}

	@Test
	void configurationTextNamesNoTokenOrKey() {
		this.runner
			.withPropertyValues("gateway.homeserver.base-url=https://matrix.example.org",
					"gateway.homeserver.access-token=syt_gateway_secret",
					"gateway.widgets.ec.homeserver-access-token=syt_widget_secret", EC_TOKEN,
					"gateway.delay-id-key=" + DelayIdsForTests.KEY)
			.run((context) -> assertThat(context.getBean(GatewayProperties.class).toString())
				.contains("https://matrix.example.org", "ownAccount=true")
				.doesNotContain("syt_gateway_secret", "syt_widget_secret", "secret", DelayIdsForTests.KEY));
	}

	@Test
	void corsOriginsMustBeOrigins() {
		this.runner.withPropertyValues("gateway.cors.allowed-origins=https://app.example.org/widgets")
			.run((context) -> assertFailure(context,
					"gateway.cors.allowed-origins must list origins such as https://app.example.org (scheme, host "
							+ "and port only), or *, but has 'https://app.example.org/widgets'"));
		this.runner.withPropertyValues("gateway.cors.allowed-origins=https://app.example.org:8443,*")
			.run((context) -> assertThat(context.getBean(GatewayProperties.class).cors().allowedOrigins())
				.containsExactly("https://app.example.org:8443", "*"));
	}

	@Test
	void negativeRetryBudgetFailsStartup() {
		this.runner.withPropertyValues("gateway.homeserver.retry-budget=-1s")
			.run((context) -> assertFailure(context,
					"gateway.homeserver.retry-budget must not be negative (0 turns retries off), but was -1000ms"));
	}

	@Test
	void circuitBreakerThresholdMustBeAPercentage() {
		this.runner.withPropertyValues("gateway.homeserver.circuit-breaker.failure-rate-threshold=150")
			.run((context) -> assertFailure(context,
					"gateway.homeserver.circuit-breaker.failure-rate-threshold must be a percentage from 1 to 100, "
							+ "but was 150"));
	}

	@Test
	void circuitBreakerWindowDurationIsAtLeastASecond() {
		this.runner.withPropertyValues("gateway.homeserver.circuit-breaker.window-duration=500ms")
			.run((context) -> assertFailure(context,
					"gateway.homeserver.circuit-breaker.window-duration must be at least 1s"));
	}

	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void aHomeserverAccessTokenSharedByTwoWidgetsOrWithTheGatewayIsWarnedOfAtStartup(CapturedOutput output) {
		this.runner.withPropertyValues("gateway.homeserver.base-url=https://matrix.example.org",
				"gateway.homeserver.access-token=syt_gateway", "gateway.widgets.ec.homeserver-access-token=syt_shared",
				EC_TOKEN, "gateway.widgets.b.token=" + "b-secret".repeat(4),
				"gateway.widgets.b.room-id=!abc:example.org", "gateway.widgets.b.homeserver-access-token=syt_shared",
				"gateway.widgets.c.token=" + "c-secret".repeat(4), "gateway.widgets.c.room-id=!abc:example.org",
				"gateway.widgets.c.homeserver-access-token=syt_gateway",
				"gateway.widgets.d.token=" + "d-secret".repeat(4), "gateway.widgets.d.room-id=!abc:example.org",
				"gateway.widgets.d.homeserver-access-token=syt_own")
			.run((context) -> new WidgetRegistry(context.getBean(GatewayProperties.class)));

		assertThat(output).contains("widget b, widget ec use the same homeserver access token")
			.contains("the gateway (gateway.homeserver.access-token), widget c use the same homeserver access token")
			.doesNotContain("widget d");
	}

	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void eachWidgetIsDescribedInOneStartupLineThatNeverShowsItsToken(CapturedOutput output) {
		this.runner
			.withPropertyValues("gateway.homeserver.base-url=https://matrix.example.org",
					"gateway.homeserver.access-token=syt_gateway", EC_TOKEN,
					"gateway.widgets.b.token=" + "b-secret".repeat(4) + "," + "b-next".repeat(6),
					"gateway.widgets.b.room-id=!abc:example.org",
					"gateway.widgets.b.capabilities=org.matrix.msc4157.send.delayed_event,m.always_on_screen",
					"gateway.widgets.b.homeserver-access-token=syt_own")
			.run((context) -> new WidgetRegistry(context.getBean(GatewayProperties.class)));

		assertThat(output)
			.contains("Widget b: room !abc:example.org, 2 capabilities, 2 tokens, acting as an "
					+ "account of its own, OpenID blocked")
			.doesNotContain("b-secret")
			.doesNotContain("syt_own");
	}

	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void aKeyUnderAWidgetThatIsNoSettingIsWarnedOf(CapturedOutput output) {
		this.runner
			.withPropertyValues("gateway.widgets.b.token=b-secret", "gateway.widgets.b.room-id=!abc:example.org",
					"gateway.widgets.b.capabilites[0]=org.matrix.msc4157.send.delayed_event",
					"gateway.widgets.b.rate-limit.requests=5")
			.run((context) -> assertThat(context.getBean(GatewayProperties.class).widgets().get("b").capabilities())
				.isEmpty());

		assertThat(output)
			.contains("gateway.widgets.b.capabilites is not a widget setting and is ignored; a widget "
					+ "has capabilities, homeserver-access-token, max-delay, openid, rate-limit, room-id, token, "
					+ "token-sha256")
			.doesNotContain("gateway.widgets.b.rate-limit is not")
			.doesNotContain("gateway.widgets.b.room-id is not");
	}

	@Test
	void severalTokensOfOneWidgetAreAllValidForRotation() {
		ApplicationContextRunner runner = new ApplicationContextRunner()
			.withUserConfiguration(PropertiesConfiguration.class)
			.withPropertyValues("gateway.widgets.ec.room-id=!abc:example.org");
		runner.withPropertyValues("gateway.widgets.ec.token=old-secret,new-secret")
			.run((context) -> assertThat(context.getBean(GatewayProperties.class).widgets().get("ec").tokenDigests())
				.hasSize(2));
		runner
			.withPropertyValues("gateway.widgets.ec.token=old-secret,other-secret",
					"gateway.widgets.other.token=other-secret", "gateway.widgets.other.room-id=!o:example.org")
			.run((context) -> assertFailure(context, "gateway.widgets.other has the same token as gateway.widgets.ec"));
	}

	@Test
	void widgetWithoutTokenFailsStartup() {
		new ApplicationContextRunner().withUserConfiguration(PropertiesConfiguration.class)
			.withPropertyValues("gateway.widgets.ec.room-id=!abc:example.org")
			.run((context) -> assertFailure(context,
					"gateway.widgets.ec must set exactly one of gateway.widgets.ec.token"
							+ " and gateway.widgets.ec.token-sha256"));
	}

	@Test
	void widgetWithBothTokenFormsFailsStartup() {
		this.runner.withPropertyValues("gateway.widgets.ec.token-sha256=" + "a".repeat(64))
			.run((context) -> assertFailure(context, "gateway.widgets.ec.token-sha256, not both"));
	}

	@Test
	void aShortPlainTokenFailsStartupWithARealHomeserverSayingWhatToDoInstead() {
		this.runner
			.withPropertyValues("gateway.homeserver.base-url=https://matrix.example.org",
					"gateway.homeserver.access-token=syt_abc", "gateway.widgets.ec.token=tiny-t0ken")
			.run((context) -> {
				assertFailure(context, "gateway.widgets.ec.token must be at least 32 characters when "
						+ "gateway.homeserver.base-url is set");
				assertThat(context.getStartupFailure()).rootCause()
					.hasMessageContaining("set gateway.widgets.ec.token-sha256")
					.hasMessageContaining("'openssl rand -base64 32'")
					.message()
					.doesNotContain("tiny-t0ken");
			});
		this.runner
			.withPropertyValues("gateway.homeserver.base-url=https://matrix.example.org",
					"gateway.homeserver.access-token=syt_abc", "gateway.widgets.ec.token=" + "x".repeat(32) + ",short")
			.run((context) -> assertFailure(context, "gateway.widgets.ec.token[1] must be at least 32 characters"));
	}

	@Test
	void aRealHomeserverServesLongPlainTokensAndDigestsAndTheSimulatorShortTokens() {
		this.runner
			.withPropertyValues("gateway.homeserver.base-url=https://matrix.example.org",
					"gateway.homeserver.access-token=syt_abc", "gateway.widgets.ec.token=" + "x".repeat(32),
					"gateway.widgets.hashed.token-sha256=" + "a".repeat(64),
					"gateway.widgets.hashed.room-id=!abc:example.org")
			.run((context) -> assertThat(context).hasNotFailed());
		this.runner.run((context) -> assertThat(context.getBean(GatewayProperties.class).widgets().get("ec").token())
			.containsExactly("secret"));
	}

	@Test
	void malformedTokenDigestFailsStartup() {
		new ApplicationContextRunner().withUserConfiguration(PropertiesConfiguration.class)
			.withPropertyValues("gateway.widgets.ec.token-sha256=abc", "gateway.widgets.ec.room-id=!abc:example.org")
			.run((context) -> assertFailure(context, "gateway.widgets.ec.token-sha256 must be the 64 hexadecimal"));
	}

	@Test
	void twoWidgetsWithTheSameTokenFailStartup() {
		this.runner
			.withPropertyValues("gateway.widgets.other.token=secret", "gateway.widgets.other.room-id=!o:example.org")
			.run((context) -> assertFailure(context, "gateway.widgets.other has the same token as gateway.widgets.ec"));
	}

	@Test
	void plainTokenAndDigestOfTheSameTokenFailStartup() {
		// SHA-256 of "secret"
		this.runner.withPropertyValues(
				"gateway.widgets.other.token-sha256=2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
				"gateway.widgets.other.room-id=!o:example.org")
			.run((context) -> assertFailure(context, "gateway.widgets.other has the same token as gateway.widgets.ec"));
	}

	@Test
	void roomIdNotStartingWithBangFailsStartup() {
		this.runner.withPropertyValues("gateway.widgets.ec.room-id=#alias:example.org")
			.run((context) -> assertFailure(context,
					"gateway.widgets.ec.room-id must be a room id (a '!' followed by the room's opaque id, such as "
							+ "!abc:example.org), but was '#alias:example.org'"));
	}

	@Test
	void missingRoomIdFailsStartup() {
		new ApplicationContextRunner().withUserConfiguration(PropertiesConfiguration.class)
			.withPropertyValues("gateway.widgets.ec.token=secret")
			.run((context) -> assertFailure(context, "gateway.widgets.ec.room-id must be a room id"));
	}

	@Test
	void malformedCapabilityFailsStartup() {
		this.runner.withPropertyValues("gateway.widgets.ec.capabilities[1]=org.matrix.msc4157.send.delayed_events")
			.run((context) -> assertFailure(context,
					"gateway.widgets.ec.capabilities[1] 'org.matrix.msc4157.send.delayed_events' is malformed"));
	}

	@Test
	void nonHttpBaseUrlFailsStartup() {
		this.runner.withPropertyValues("gateway.homeserver.base-url=ftp://matrix.example.org")
			.run((context) -> assertFailure(context, "gateway.homeserver.base-url must be an http or https URL"));
	}

	@Test
	void baseUrlWithoutHostFailsStartup() {
		this.runner.withPropertyValues("gateway.homeserver.base-url=matrix.example.org")
			.run((context) -> assertFailure(context, "gateway.homeserver.base-url must be an http or https URL"));
	}

	@Test
	void nonPositiveMaxDelayFailsStartup() {
		this.runner.withPropertyValues("gateway.widgets.ec.max-delay=0s")
			.run((context) -> assertFailure(context,
					"gateway.widgets.ec.max-delay must be at least 1ms (such as 1h), but was 0ms"));
	}

	@Test
	void emptyAccessTokenFailsStartup() {
		this.runner.withPropertyValues("gateway.homeserver.base-url=https://matrix.example.org")
			.run((context) -> assertFailure(context,
					"gateway.homeserver.access-token must be set when " + "gateway.homeserver.base-url is"));
		this.runner
			.withPropertyValues("gateway.homeserver.base-url=https://matrix.example.org",
					"gateway.homeserver.access-token=")
			.run((context) -> assertFailure(context,
					"gateway.homeserver.access-token must be set when " + "gateway.homeserver.base-url is"));
		this.runner.run((context) -> assertThat(context.getBean(GatewayProperties.class).homeserver().accessToken())
			.isEqualTo("simulator-access-token"));
	}

	@Test
	void widgetsBoundOneByOneAreWhatSpringBootsOwnBindingMakesOfThem() {
		ApplicationContextInitializer<ConfigurableApplicationContext> sources = (context) -> {
			MutablePropertySources propertySources = context.getEnvironment().getPropertySources();
			// Lower precedence: a file with every form of widget.
			propertySources.addLast(new MapPropertySource("file", widgetsFile()));
			// Higher precedence, as the environment's variables: they override
			// one widget's capabilities, its room and another's rate limit.
			propertySources.addFirst(
					new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
							Map.of("GATEWAY_WIDGETS_EC_CAPABILITIES_0_", "org.matrix.msc4157.update_delayed_event",
									"GATEWAY_WIDGETS_EC_ROOMID", "!override:example.org",
									"GATEWAY_WIDGETS_HASHED_RATELIMIT_MAXINFLIGHT", "3",
									"GATEWAY_WIDGETS_FROMENV_TOKEN", "env-token", "GATEWAY_WIDGETS_FROMENV_ROOMID",
									"!env:example.org", "EC_SECRET", "resolved-secret")));
		};
		new ApplicationContextRunner().withUserConfiguration(SpringBootsBindingConfiguration.class)
			.withInitializer(sources)
			.run((expected) -> new ApplicationContextRunner().withUserConfiguration(PropertiesConfiguration.class)
				.withInitializer(sources)
				.run((actual) -> {
					GatewayProperties bound = actual.getBean(GatewayProperties.class);
					assertThat(bound).isEqualTo(expected.getBean(GatewayProperties.class));
					assertThat(bound.widgets()).containsOnlyKeys("ec", "hashed", "element-call", "fromenv");
					GatewayProperties.Widget ec = bound.widgets().get("ec");
					assertThat(ec.capabilities()).containsExactly("org.matrix.msc4157.update_delayed_event");
					assertThat(ec.roomId()).isEqualTo("!override:example.org");
					assertThat(ec.token()).containsExactly("resolved-secret", "second-secret");
					assertThat(ec.maxDelay()).isEqualTo(Duration.ofHours(2));
					assertThat(ec.openid()).isEqualTo(GatewayProperties.OpenIdPolicy.ALLOWED);
					assertThat(bound.widgets().get("hashed").rateLimit())
						.isEqualTo(new GatewayProperties.RateLimit(5, Duration.ofSeconds(10), 3));
					assertThat(bound.widgets().get("element-call").capabilities()).hasSize(2);
				}));
	}

	@Test
	void aWidgetsNestedRateLimitIsCheckedWhenBoundOneByOne() {
		this.runner.withPropertyValues("gateway.widgets.ec.rate-limit.requests=0")
			.run((context) -> assertFailure(context, "a rate limit's requests must be at least 1, but was 0"));
	}

	@Test
	void aGapInALaterWidgetsListFailsStartupAsInSpringBootsOwnBinding() {
		String[] properties = { "gateway.widgets.first.token=first-token",
				"gateway.widgets.first.room-id=!abc:example.org",
				"gateway.widgets.first.capabilities[0]=org.matrix.msc4157.send.delayed_event",
				"gateway.widgets.second.token=second-token", "gateway.widgets.second.room-id=!abc:example.org",
				"gateway.widgets.second.capabilities[0]=org.matrix.msc4157.send.delayed_event",
				"gateway.widgets.second.capabilities[2]=org.matrix.msc4157.update_delayed_event" };
		String message = "[gateway.widgets.second.capabilities[2]] were left unbound";
		for (Class<?> binding : List.of(SpringBootsBindingConfiguration.class, PropertiesConfiguration.class)) {
			new ApplicationContextRunner().withUserConfiguration(binding)
				.withPropertyValues(properties)
				.run((context) -> assertFailure(context, message));
		}
	}

	private static Map<String, Object> widgetsFile() {
		Map<String, Object> file = new LinkedHashMap<>();
		file.put("gateway.widgets.ec.token[0]", "${EC_SECRET}");
		file.put("gateway.widgets.ec.token[1]", "second-secret");
		file.put("gateway.widgets.ec.room-id", "!abc:example.org");
		file.put("gateway.widgets.ec.max-delay", "2h");
		file.put("gateway.widgets.ec.openid", "allowed");
		file.put("gateway.widgets.ec.capabilities[0]", "org.matrix.msc4157.send.delayed_event");
		file.put("gateway.widgets.ec.capabilities[1]", "org.matrix.msc2762.send.event:m.room.message");
		file.put("gateway.widgets.hashed.token-sha256", "a".repeat(64));
		file.put("gateway.widgets.hashed.room-id", "!abc:example.org");
		file.put("gateway.widgets.hashed.rate-limit.requests", "5");
		file.put("gateway.widgets.hashed.rate-limit.per", "10s");
		file.put("gateway.widgets.element-call.token", "ec-token");
		file.put("gateway.widgets.element-call.room-id", "!abc:example.org");
		file.put("gateway.widgets.element-call.capabilities",
				"org.matrix.msc4157.send.delayed_event, org.matrix.msc4157.update_delayed_event");
		return file;
	}

	private static void assertFailure(AssertableApplicationContext context, String message) {
		assertThat(context).hasFailed();
		assertThat(context.getStartupFailure()).rootCause().hasMessageContaining(message);
	}

	/** The gateway's own binding: Spring Boot's, with the widgets bound one by one. */
	@Configuration(proxyBeanMethods = false)
	@EnableConfigurationProperties(GatewayProperties.class)
	@Import(WidgetsBinding.class)
	static class PropertiesConfiguration {

	}

	/** Spring Boot's binding alone, to compare with. */
	@Configuration(proxyBeanMethods = false)
	@EnableConfigurationProperties(GatewayProperties.class)
	static class SpringBootsBindingConfiguration {

	}

}
