# syntax=docker/dockerfile:1

# Build: compile, test-free package, then split the jar into Boot's layers.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /workspace
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -ntp dependency:go-offline
COPY src src
COPY openapi openapi
RUN ./mvnw -B -ntp package -DskipTests \
    && java -Djarmode=tools -jar target/widget-gateway-*.jar extract --layers --launcher --destination /layers

# Run: the JRE, the layers from least to most often changed, and no root.
FROM eclipse-temurin:17-jre
RUN groupadd --system gateway && useradd --system --gid gateway --uid 10001 --no-create-home gateway
WORKDIR /app
COPY --from=build /layers/dependencies/ ./
COPY --from=build /layers/spring-boot-loader/ ./
COPY --from=build /layers/snapshot-dependencies/ ./
COPY --from=build /layers/application/ ./
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "org.springframework.boot.loader.launch.JarLauncher"]
