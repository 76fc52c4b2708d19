package org.widgetgateway.simulator;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.StringUtils;

/**
 * Matches when no homeserver is configured ({@code gateway.homeserver.base-url} unset or
 * empty), so that the simulator serves in its place.
 */
@Target({ ElementType.TYPE, ElementType.METHOD })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Conditional(ConditionalOnSimulator.OnSimulatorCondition.class)
@interface ConditionalOnSimulator {

	/** Whether the simulator serves: no homeserver base URL is configured. */
	class OnSimulatorCondition extends SpringBootCondition {

		private static final String BASE_URL = "gateway.homeserver.base-url";

		static boolean isActive(Environment environment) {
			return !StringUtils.hasText(environment.getProperty(BASE_URL));
		}

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			return isActive(context.getEnvironment())
					? ConditionOutcome.match(BASE_URL + " is not set: the homeserver simulator serves")
					: ConditionOutcome.noMatch(BASE_URL + " is set: a real homeserver serves");
		}

	}

}
