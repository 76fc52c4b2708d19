package org.widgetgateway.simulator;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Gives the simulated homeserver's errors the bodies Synapse gives: {@code {"errcode":
 * ..., "error": ...}} plus any extra members.
 */
@RestControllerAdvice(assignableTypes = { SimulatorController.class, SimulatedLivekitService.class })
@Order(Ordered.HIGHEST_PRECEDENCE)
@ConditionalOnSimulator
class SimulatorExceptionHandler {

	private static final Log logger = LogFactory.getLog(SimulatorExceptionHandler.class);

	@ExceptionHandler(MatrixError.class)
	ResponseEntity<Map<String, Object>> handleMatrixError(MatrixError error) {
		return matrixError(error.status(), error.errcode(), error.getMessage(), error.extra());
	}

	@ExceptionHandler(Exception.class)
	ResponseEntity<Map<String, Object>> handleUnexpected(Exception ex) {
		logger.error("Homeserver simulator failure", ex);
		return matrixError(HttpStatus.INTERNAL_SERVER_ERROR, "M_UNKNOWN", "Internal server error", Map.of());
	}

	static ResponseEntity<Map<String, Object>> matrixError(HttpStatus status, String errcode, String error,
			Map<String, Object> extra) {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("errcode", errcode);
		body.put("error", error);
		body.putAll(extra);
		return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON).body(body);
	}

}
