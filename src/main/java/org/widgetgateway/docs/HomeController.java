package org.widgetgateway.docs;

import io.swagger.v3.oas.annotations.Hidden;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * Leads a browser that opens the gateway's address to the API's documentation.
 */
@Controller
@Hidden
class HomeController {

	@GetMapping("/")
	String home() {
		return "redirect:/swagger-ui.html";
	}

}
