package org.widgetgateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

import redis.embedded.RedisServer;

/**
 * A real Redis server on loopback for tests, from the binaries that embedded-redis ships:
 * nothing to install, nothing written to disk.
 */
public final class EmbeddedRedis implements AutoCloseable {

	private final int port;

	private RedisServer server;

	private EmbeddedRedis(int port) {
		this.port = port;
		this.server = server(port);
	}

	/**
	 * Starts a Redis server on a free port.
	 * @return the running server
	 */
	public static EmbeddedRedis start() {
		return new EmbeddedRedis(freePort());
	}

	/** The port it listens on. */
	public int port() {
		return this.port;
	}

	/** Stops the server, keeping its port for {@link #restart()}. */
	public void stop() {
		try {
			this.server.stop();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/** Starts a fresh server on the same port after {@link #stop()}. */
	public void restart() {
		this.server = server(this.port);
	}

	@Override
	public void close() {
		if (this.server.isActive()) {
			stop();
		}
	}

	private static RedisServer server(int port) {
		try {
			RedisServer server = RedisServer.newRedisServer()
				.port(port)
				.bind("127.0.0.1")
				.setting("save \"\"")
				.setting("appendonly no")
				.build();
			server.start();
			return server;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static int freePort() {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
