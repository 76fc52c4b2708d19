package org.widgetgateway.realhomeserver;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The homeserver stand-ins of the unit tests, read from where those tests keep them: the
 * WireMock mappings under {@code wiremock/homeserver/mappings} (on the test class path),
 * and the stubs the tests build in their own code, found in their source by a comment
 * that names the contract ({@code StubContractIT "<name>"}) on the line before the stub,
 * or before the {@code return} of a helper that builds a stub's body.
 * <p>
 * A stub in code is read as the unit test gives it to WireMock: its status
 * ({@code withStatus}, 200 for {@code okJson}, or the first argument of a test's own
 * helper such as {@code homeserverAnswers(403, body)}), the headers it sets besides
 * {@code Content-Type}, and its body, a Java string expression of literals, text blocks
 * and the file's {@code static final String} constants joined with {@code +}, with
 * {@code .formatted(...)}. A {@code %d} is a number whatever the test formats into it,
 * and a {@code %s} inside a JSON string a string. What else the test fills in when it
 * runs is a hole: a {@code %s} outside a JSON string, or a call such as
 * {@code event(...)}. A hole where a value stands is read as JSON {@code null}, which
 * matches anything; a hole where members stand (an optional {@code "state_key": ...,}) is
 * left out.
 */
final class StubSources {

	/** Where the unit tests' sources are, from the project directory Failsafe runs in. */
	static final Path TEST_SOURCES = Path.of("src/test/java/org/widgetgateway");

	private static final String MAPPINGS = "wiremock/homeserver/mappings/";

	private static final String HOLE = "\u0000hole\u0000";

	private static final Pattern HOLE_BEFORE_MEMBER = Pattern.compile(Pattern.quote(HOLE) + "\\s*(?=\"[^\"]*\"\\s*:)");

	private static final Pattern HELPER = Pattern.compile("^\\s*[a-zA-Z]\\w*\\(\\s*(\\d{3})\\s*,");

	private static final Pattern STATUS = Pattern.compile("withStatus\\((\\d{3})\\)");

	private static final Pattern HEADER = Pattern.compile("withHeader\\(\\s*(?:HttpHeaders\\.([A-Z_]+)|\"([^\"]+)\")");

	private StubSources() {
	}

	/**
	 * A WireMock mapping of {@code wiremock/homeserver/mappings}, as the unit tests load
	 * it.
	 * @param file the mapping's file name
	 * @return its response
	 */
	static Stub mapping(String file) {
		String resource = MAPPINGS + file;
		try (InputStream in = StubSources.class.getClassLoader().getResourceAsStream(resource)) {
			if (in == null) {
				throw new IllegalStateException("No mapping " + resource + " on the test class path");
			}
			JsonNode mapping = JsonMapper.shared().readTree(in);
			JsonNode response = mapping.path("response");
			List<String> headers = new ArrayList<>();
			response.path("headers").propertyNames().forEach((name) -> {
				if (!name.equalsIgnoreCase("Content-Type")) {
					headers.add(name);
				}
			});
			return new Stub(resource, response.path("status").asInt(200), headers, response.path("jsonBody"));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * The stub a unit test builds in its code under the comment naming a contract.
	 * @param testFile the test's source, under {@code src/test/java/org/widgetgateway}
	 * @param contract the name in the comment
	 * @return the stub
	 */
	static Stub marked(String testFile, String contract) {
		Path path = TEST_SOURCES.resolve(testFile);
		String source;
		try {
			source = Files.readString(path, StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(
					"Cannot read " + path.toAbsolutePath() + ": the contract tests run from the project's directory",
					ex);
		}
		Matcher marker = Pattern.compile("//[^\\n]*StubContractIT \"" + Pattern.quote(contract) + "\"").matcher(source);
		if (!marker.find()) {
			throw new AssertionError(testFile + " has no stub marked StubContractIT \"" + contract
					+ "\": put the comment back on the line before the stub this contract checks");
		}
		String where = testFile + " (StubContractIT \"" + contract + "\")";
		int start = source.indexOf('\n', marker.start()) + 1;
		if (marker.find()) {
			throw new AssertionError(where + " marks two stubs");
		}
		String statement = statement(source, start);
		int status = 200;
		Matcher statusMatcher = STATUS.matcher(statement);
		if (statusMatcher.find()) {
			status = Integer.parseInt(statusMatcher.group(1));
		}
		List<String> headers = new ArrayList<>();
		Matcher header = HEADER.matcher(statement);
		while (header.find()) {
			String name = (header.group(1) != null) ? header.group(1).toLowerCase(Locale.ROOT).replace('_', '-')
					: header.group(2);
			if (!name.equalsIgnoreCase("Content-Type")) {
				headers.add(name);
			}
		}
		int body = firstOf(statement, "okJson(", "withBody(");
		Matcher helper = HELPER.matcher(statement);
		if (body < 0 && helper.find()) {
			// A helper of the test's that stubs a status and a body: name(403, "...").
			status = Integer.parseInt(helper.group(1));
			body = helper.end();
		}
		if (body < 0) {
			body = firstOf(statement, "return ");
		}
		if (body < 0) {
			throw new AssertionError(where + ": the marked statement has no okJson(...), withBody(...) or "
					+ "return of a body: " + statement);
		}
		String text = new Expression(source, statement, body).read();
		return new Stub(where, status, headers, json(where, text));
	}

	/** Where the expression after the first of these starts begins, or -1. */
	private static int firstOf(String statement, String... starts) {
		int first = -1;
		int after = -1;
		for (String start : starts) {
			int at = statement.indexOf(start);
			if (at >= 0 && (first < 0 || at < first)) {
				first = at;
				after = at + start.length();
			}
		}
		return after;
	}

	/** The Java statement that starts at {@code start}, up to its semicolon. */
	private static String statement(String source, int start) {
		int depth = 0;
		int i = start;
		while (i < source.length()) {
			char c = source.charAt(i);
			if (source.startsWith("\"\"\"", i)) {
				i = source.indexOf("\"\"\"", i + 3) + 3;
				continue;
			}
			if (c == '"') {
				i = endOfString(source, i);
				continue;
			}
			if (source.startsWith("//", i)) {
				i = source.indexOf('\n', i);
				continue;
			}
			if (c == '(' || c == '{') {
				depth++;
			}
			else if (c == ')' || c == '}') {
				depth--;
			}
			else if (c == ';' && depth == 0) {
				return source.substring(start, i);
			}
			i++;
		}
		throw new IllegalStateException("No end of the statement at " + start);
	}

	/** The index after the string literal that starts at {@code i}. */
	private static int endOfString(String source, int i) {
		int j = i + 1;
		while (source.charAt(j) != '"') {
			j += (source.charAt(j) == '\\') ? 2 : 1;
		}
		return j + 1;
	}

	/** The stub's JSON, its holes filled as the class describes. */
	private static JsonNode json(String where, String text) {
		StringBuilder filled = new StringBuilder();
		boolean inString = false;
		String withoutMemberHoles = HOLE_BEFORE_MEMBER.matcher(text).replaceAll("");
		for (int i = 0; i < withoutMemberHoles.length(); i++) {
			char c = withoutMemberHoles.charAt(i);
			if (withoutMemberHoles.startsWith(HOLE, i)) {
				filled.append(inString ? "hole" : "null");
				i += HOLE.length() - 1;
			}
			else if (inString) {
				filled.append(c);
				if (c == '\\') {
					filled.append(withoutMemberHoles.charAt(++i));
				}
				else if (c == '"') {
					inString = false;
				}
			}
			else if (c == '"') {
				inString = true;
				filled.append(c);
			}
			else {
				filled.append(c);
			}
		}
		try {
			return JsonMapper.shared().readTree(filled.toString());
		}
		catch (JacksonException ex) {
			throw new AssertionError(where + ": the stub's body is not JSON once read: " + filled, ex);
		}
	}

	/**
	 * A homeserver answer as a stub gives it.
	 *
	 * @param where the stub's place, for messages
	 * @param status its status
	 * @param headers the headers it sets, other than {@code Content-Type}
	 * @param body its body, holes read as {@code null}
	 */
	record Stub(String where, int status, List<String> headers, JsonNode body) {

		String errcode() {
			return this.body.path("errcode").asString("");
		}

	}

	/**
	 * A Java string expression in a test's source, read into the text it makes, with
	 * {@link #HOLE} for what only running the test would give.
	 */
	private static final class Expression {

		private final String source;

		private final String text;

		private int at;

		Expression(String source, String text, int at) {
			this.source = source;
			this.text = text;
			this.at = at;
		}

		String read() {
			StringBuilder value = new StringBuilder();
			while (true) {
				skipSpace();
				value.append(operand());
				skipSpace();
				if (this.at < this.text.length() && this.text.charAt(this.at) == '+') {
					this.at++;
					continue;
				}
				return value.toString();
			}
		}

		private String operand() {
			String value;
			if (this.text.startsWith("\"\"\"", this.at)) {
				int end = this.text.indexOf("\"\"\"", this.at + 3);
				value = unescape(this.text.substring(this.text.indexOf('\n', this.at) + 1, end));
				this.at = end + 3;
			}
			else if (this.text.charAt(this.at) == '"') {
				int end = endOfString(this.text, this.at);
				value = unescape(this.text.substring(this.at + 1, end - 1));
				this.at = end;
			}
			else if (this.text.charAt(this.at) == '(') {
				int end = closing(this.at);
				value = new Expression(this.source, this.text.substring(this.at + 1, end), 0).read();
				this.at = end + 1;
			}
			else if (Character.isJavaIdentifierStart(this.text.charAt(this.at))) {
				int end = this.at;
				while (end < this.text.length()
						&& (Character.isJavaIdentifierPart(this.text.charAt(end)) || this.text.charAt(end) == '.')) {
					end++;
				}
				String name = this.text.substring(this.at, end);
				this.at = end;
				skipSpace();
				if (this.at < this.text.length() && this.text.charAt(this.at) == '(') {
					// A call: what it returns is known only when the test runs.
					this.at = closing(this.at) + 1;
					value = HOLE;
				}
				else {
					value = constant(name);
				}
			}
			else {
				throw new IllegalStateException("Cannot read the stub's body at: " + this.text.substring(this.at));
			}
			// .formatted(...): its arguments are known only when the test runs.
			skipSpace();
			while (this.text.startsWith(".formatted(", this.at)) {
				this.at = closing(this.at + ".formatted".length()) + 1;
				value = value.replace("%d", "0").replace("%s", HOLE).replace("%%", "%");
				skipSpace();
			}
			if (this.at < this.text.length() && this.text.charAt(this.at) == '.') {
				throw new IllegalStateException("Cannot read the stub's body: it is changed by "
						+ this.text.substring(this.at) + "; mark a stub whose body is literal or formatted");
			}
			return value;
		}

		private String constant(String name) {
			Matcher declaration = Pattern.compile("static final String " + Pattern.quote(name) + "\\s*=")
				.matcher(this.source);
			if (!declaration.find()) {
				throw new IllegalStateException("No constant " + name + " in the test's source");
			}
			String initializer = statement(this.source, declaration.end());
			return new Expression(this.source, initializer, 0).read();
		}

		private int closing(int open) {
			int depth = 0;
			int i = open;
			while (i < this.text.length()) {
				char c = this.text.charAt(i);
				if (this.text.startsWith("\"\"\"", i)) {
					i = this.text.indexOf("\"\"\"", i + 3) + 3;
					continue;
				}
				if (c == '"') {
					i = endOfString(this.text, i);
					continue;
				}
				if (c == '(') {
					depth++;
				}
				else if (c == ')' && --depth == 0) {
					return i;
				}
				i++;
			}
			throw new IllegalStateException("Unbalanced parentheses in " + this.text);
		}

		private void skipSpace() {
			while (this.at < this.text.length() && Character.isWhitespace(this.text.charAt(this.at))) {
				this.at++;
			}
		}

		/** A literal's characters, its escapes resolved as the compiler resolves them. */
		private static String unescape(String literal) {
			StringBuilder out = new StringBuilder();
			for (int i = 0; i < literal.length(); i++) {
				char c = literal.charAt(i);
				if (c != '\\') {
					out.append(c);
					continue;
				}
				char next = literal.charAt(++i);
				switch (next) {
					case 'n' -> out.append('\n');
					case 't' -> out.append('\t');
					case '\n' -> {
						// a text block's line continuation
					}
					case 'u' -> {
						out.append((char) Integer.parseInt(literal.substring(i + 1, i + 5), 16));
						i += 4;
					}
					default -> out.append(next);
				}
			}
			return out.toString();
		}

	}

}
