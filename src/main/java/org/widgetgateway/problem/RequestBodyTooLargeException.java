package org.widgetgateway.problem;

/**
 * A request body longer than the gateway accepts.
 */
class RequestBodyTooLargeException extends RuntimeException {

	RequestBodyTooLargeException(long limit) {
		super("The request body is larger than " + limit + " bytes");
	}

}
