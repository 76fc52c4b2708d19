package org.widgetgateway;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.AsyncSupportConfigurer;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Lets an asynchronous widget request wait as long as its homeserver calls may take (see
 * {@link GatewayProperties.Homeserver#longestWait()}) and no longer, instead of a fixed
 * servlet default.
 */
@Configuration(proxyBeanMethods = false)
class AsyncTimeoutConfiguration implements WebMvcConfigurer {

	private final GatewayProperties properties;

	AsyncTimeoutConfiguration(GatewayProperties properties) {
		this.properties = properties;
	}

	@Override
	public void configureAsyncSupport(AsyncSupportConfigurer configurer) {
		configurer.setDefaultTimeout(this.properties.homeserver().longestWait().toMillis());
	}

}
