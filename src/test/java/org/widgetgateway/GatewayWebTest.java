package org.widgetgateway;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ExtendWith;
import org.wiremock.spring.ConfigureWireMock;
import org.wiremock.spring.EnableWireMock;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.FilterType;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;

/**
 * A web slice of the gateway: its controllers, security, service layer and homeserver
 * client, without the rest of the application, talking to a WireMock homeserver named
 * {@code homeserver} that answers discovery as Synapse 1.157 does (see
 * {@link HomeserverStubs}). Every test class with this annotation shares one context.
 * <p>
 * The widgets, from {@code application-test.yaml}: {@code call} (MatrixRTC: call member
 * state, delayed send and update, {@code m.room.message#m.text}, the timeline of
 * {@code !other:example.org}, max-delay 1h), {@code other} (the same delayed-event grant
 * in its own room) and {@code plain} (configured by token digest: {@code m.room.message}
 * only).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@WebMvcTest
@ActiveProfiles("test")
@Import(GatewayWebTest.Components.class)
@ImportAutoConfiguration(WebClientAutoConfiguration.class)
@EnableWireMock(@ConfigureWireMock(name = "homeserver", baseUrlProperties = "gateway.homeserver.base-url",
		filesUnderClasspath = "wiremock/homeserver"))
@ExtendWith(HomeserverStubs.class)
public @interface GatewayWebTest {

	@TestConfiguration(proxyBeanMethods = false)
	@EnableConfigurationProperties(GatewayProperties.class)
	@ComponentScan(basePackageClasses = WidgetGatewayApplication.class,
			excludeFilters = @ComponentScan.Filter(type = FilterType.ANNOTATION,
					classes = { SpringBootConfiguration.class, TestConfiguration.class }))
	class Components {

	}

}
