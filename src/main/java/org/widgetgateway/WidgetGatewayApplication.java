package org.widgetgateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class WidgetGatewayApplication {

	public static void main(String[] args) {
		SpringApplication.run(WidgetGatewayApplication.class, args);
	}

}
