# syntax=docker/dockerfile:1

# Build: compile, test-free package, then extract the jar for the ahead-of-time cache.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /workspace
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -ntp dependency:go-offline
COPY src src
COPY openapi openapi
RUN ./mvnw -B -ntp package -DskipTests \
    && java -Djarmode=tools -jar target/widget-gateway-*.jar extract --destination /app --application-filename app.jar

# Run: the JRE, the libraries (they change least), the application, an ahead-of-time cache made
# by a training run in this image (JEP 483/514/515: classes loaded and linked, method profiles;
# the run exits once the context is up), and no root.
FROM eclipse-temurin:25-jre
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
    && groupadd --system gateway && useradd --system --gid gateway --uid 10001 --no-create-home gateway
WORKDIR /app
COPY --from=build /app/lib/ ./lib/
COPY --from=build /app/app.jar ./
# The production launch (bench/run.sh measures this line): the bean set worked out at build time
# (Spring AOT; it serves a real homeserver, not the simulator), the serial collector, which on the
# one or two cores a gateway gets does more requests per second than G1, compact object headers
# (JEP 519: 8-byte headers, less heap per record and event), a bounded heap, and native access for
# Netty's transport (which Java 25 would otherwise warn of at every start).
# The cache records the jar as the training run named it (/app/app.jar) and the options it ran
# with; when it cannot be used (other options, another JDK) the JVM starts without it, a few
# seconds slower, and says so in one warning line.
ENV JAVA_OPTS="-Dspring.aot.enabled=true -XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xms64m -Xmx192m --enable-native-access=ALL-UNNAMED -XX:AOTCache=/app/app.aot"
RUN java -Dspring.aot.enabled=true -XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xms64m -Xmx192m --enable-native-access=ALL-UNNAMED \
        -XX:AOTCacheOutput=/app/app.aot -Dspring.context.exit=onRefresh -jar /app/app.jar \
        --server.port=0 --gateway.homeserver.base-url=http://127.0.0.1:9 --gateway.homeserver.access-token=training \
    && chmod 444 /app/app.aot
USER 10001:10001
# The application's port, and the management port the README suggests (MANAGEMENT_SERVER_PORT=8081:
# the Prometheus scrape and health's details, off the network widgets reach); nothing listens on
# it unless that is set.
EXPOSE 8080 8081
# Readiness, not the homeserver: an unreachable homeserver must not get the container restarted.
# With a management port of its own, the actuator, readiness included, answers there only.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${MANAGEMENT_SERVER_PORT:-${SERVER_PORT:-8080}}/actuator/health/readiness" >/dev/null || exit 1
# The ahead-of-time bean set serves the actuator on the application's port only, so with a
# management port of its own (MANAGEMENT_SERVER_PORT) the gateway starts as the jar does: the
# -Dspring.aot.enabled=false after JAVA_OPTS wins over theirs (the last -D of a property does),
# whatever else JAVA_OPTS says. The JVM's ahead-of-time cache still serves; Spring's own start
# takes about two seconds more.
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS ${MANAGEMENT_SERVER_PORT:+-Dspring.aot.enabled=false} -jar /app/app.jar \"$@\"", "widget-gateway"]
