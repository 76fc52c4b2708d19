package org.widgetgateway.realhomeserver;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import tools.jackson.databind.JsonNode;

/**
 * Whether a real answer has the shape a stub gives: every member the stub has, with the
 * same JSON type, all the way down; the real answer may have more. A stub's {@code null}
 * is a hole (see {@link StubSources}) and matches anything. Each element of a stub's
 * array must match some element of the real array, so a real array must not be empty
 * where the stub's is not. Objects whose member names are data, such as the room ids
 * under a sync's {@code rooms.join}, are named by their path: there each member of the
 * stub must match some member of the real object, whatever its name.
 */
final class JsonShape {

	private final Set<String> keyedByData;

	private final Set<String> left;

	private JsonShape(Set<String> keyedByData, Set<String> left) {
		this.keyedByData = keyedByData;
		this.left = left;
	}

	/** The plain comparison. */
	static JsonShape members() {
		return new JsonShape(Set.of(), Set.of());
	}

	/**
	 * The comparison where the objects at these paths are keyed by data.
	 * @param paths JSON pointers, {@code *} standing for any array element or data key
	 * @return the comparison
	 */
	JsonShape keyedByData(String... paths) {
		return new JsonShape(Set.of(paths), this.left);
	}

	/**
	 * The comparison without these members of the stub, which the homeserver's generation
	 * does not have.
	 * @param paths JSON pointers, {@code *} standing for any array element or data key
	 * @return the comparison
	 */
	JsonShape without(Set<String> paths) {
		return new JsonShape(this.keyedByData, Set.copyOf(paths));
	}

	/**
	 * Where the real answer differs in shape from the stub.
	 * @param stub the stub's body
	 * @param real the real answer's body
	 * @return one line per difference, empty when the shapes agree
	 */
	List<String> differences(JsonNode stub, JsonNode real) {
		List<String> differences = new ArrayList<>();
		compare("", stub, real, differences);
		return differences;
	}

	private void compare(String path, JsonNode stub, JsonNode real, List<String> differences) {
		if (stub.isNull()) {
			return;
		}
		if (stub.getNodeType() != real.getNodeType()) {
			differences.add(((path.isEmpty()) ? "/" : path) + ": the stub has " + describe(stub) + ", the homeserver "
					+ describe(real));
			return;
		}
		if (stub.isObject()) {
			boolean byData = this.keyedByData.contains(path);
			for (Map.Entry<String, JsonNode> member : stub.properties()) {
				String memberPath = path + "/" + escape(member.getKey());
				if (this.left.contains(byData ? path + "/*" : memberPath)) {
					continue;
				}
				if (byData) {
					matchSome(path + "/*", member.getValue(), real.values(), differences);
				}
				else if (!real.has(member.getKey())) {
					differences.add(memberPath + ": the stub has it (" + describe(member.getValue())
							+ "), the homeserver does not");
				}
				else {
					compare(memberPath, member.getValue(), real.get(member.getKey()), differences);
				}
			}
		}
		else if (stub.isArray()) {
			for (JsonNode element : stub) {
				matchSome(path + "/*", element, real.values(), differences);
			}
		}
	}

	/** The stub's value must match one of the real values. */
	private void matchSome(String path, JsonNode stub, Iterable<JsonNode> real, List<String> differences) {
		if (stub.isNull()) {
			return;
		}
		List<String> closest = null;
		for (JsonNode candidate : real) {
			List<String> mismatch = new ArrayList<>();
			compare(path, stub, candidate, mismatch);
			if (mismatch.isEmpty()) {
				return;
			}
			if (closest == null || mismatch.size() < closest.size()) {
				closest = mismatch;
			}
		}
		if (closest == null) {
			differences.add(path + ": the stub has " + describe(stub) + ", the homeserver nothing to compare it with");
		}
		else {
			differences.addAll(closest);
		}
	}

	private static String escape(String key) {
		return key.replace("~", "~0").replace("/", "~1");
	}

	private static String describe(JsonNode node) {
		String type = node.getNodeType().name().toLowerCase(Locale.ROOT);
		if (node.isNull()) {
			return "a value the test fills in";
		}
		if (node.isObject()) {
			return "an object";
		}
		if (node.isArray()) {
			return "an array";
		}
		String value = node.toString();
		return "a " + type + " (" + ((value.length() > 40) ? value.substring(0, 40) + "…" : value) + ")";
	}

}
