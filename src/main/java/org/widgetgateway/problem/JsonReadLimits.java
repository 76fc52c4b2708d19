package org.widgetgateway.problem;

import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Scope;

/**
 * Limits on the JSON the gateway reads, enforced by the parser as it reads, so that a
 * document built to be expensive (nested thousands deep, numbers thousands of digits
 * long) fails at once instead of being built up first. The body itself is at most 64 KiB
 * ({@link RequestBodyLimitFilter}). Spring Boot's {@link JsonMapper.Builder} is replaced
 * by one on a JSON factory with these limits; every {@link JsonMapperBuilderCustomizer}
 * still applies, in order.
 */
@Configuration(proxyBeanMethods = false)
class JsonReadLimits {

	/**
	 * Deeper than any event content a Matrix client sends; Jackson's default is 500.
	 */
	static final int MAX_NESTING_DEPTH = 64;

	/**
	 * Canonical JSON allows integers of at most 16 digits; Jackson's default is 1000.
	 */
	static final int MAX_NUMBER_LENGTH = 64;

	static final String EXCEEDED = "The request body exceeds the gateway's JSON limits: at most " + MAX_NESTING_DEPTH
			+ " levels of nesting, numbers of at most " + MAX_NUMBER_LENGTH + " digits";

	@Bean
	@Scope(ConfigurableBeanFactory.SCOPE_PROTOTYPE)
	JsonMapper.Builder jsonMapperBuilder(ObjectProvider<JsonMapperBuilderCustomizer> customizers) {
		JsonFactory factory = JsonFactory.builder()
			.streamReadConstraints(StreamReadConstraints.builder()
				.maxNestingDepth(MAX_NESTING_DEPTH)
				.maxNumberLength(MAX_NUMBER_LENGTH)
				.build())
			.build();
		JsonMapper.Builder builder = JsonMapper.builder(factory);
		customizers.orderedStream().forEach((customizer) -> customizer.customize(builder));
		return builder;
	}

}
