package org.widgetgateway.live;

import io.swagger.v3.oas.annotations.Hidden;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * {@code GET /live}: a page where a widget, with its token, watches its delayed events
 * count down and its live stream. The page is static (plain HTML and JavaScript,
 * {@code static/live/}); it holds no data of its own and asks the API with the token
 * entered, which it keeps in the tab's memory only.
 */
@Controller
@Hidden
class LiveController {

	@GetMapping({ "/live", "/live/" })
	String live() {
		return "forward:/live/index.html";
	}

}
