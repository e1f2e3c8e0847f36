# Build stage: restore on the project files first so the package layer is cached.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY Sanctum.Api/Sanctum.Api.csproj Sanctum.Api/
COPY Sanctum.Migrations/Sanctum.Migrations.csproj Sanctum.Migrations/
RUN dotnet restore Sanctum.Api/Sanctum.Api.csproj
COPY Sanctum.Migrations/ Sanctum.Migrations/
COPY Sanctum.Api/ Sanctum.Api/
COPY wwwroot/ wwwroot/
RUN dotnet publish Sanctum.Api/Sanctum.Api.csproj -c Release -o /app --no-restore

# Runtime stage: ASP.NET Core runtime only, as the image's non-root 'app' user.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown app:app /data
WORKDIR /app
COPY --from=build /app ./
# Listening on every address: the first start writes the admin's one-time password to /data/initial-admin-password
# (unless Sanctum__BootstrapAdminPassword is given). For a public install set, e.g. with docker run -e:
#   Sanctum__PublicOrigins=https://sanctum.example.com   (the origin browsers load the pages from)
#   AllowedHosts=sanctum.example.com                     (any other Host header gets 400)
#   Sanctum__TrustedProxies=172.17.0.1                   (the reverse proxy in front, if any)
ENV ASPNETCORE_URLS=http://+:8080 \
    Sanctum__DataDirectory=/data \
    AllowedHosts=* \
    Sanctum__PublicOrigins= \
    Sanctum__TrustedProxies=
VOLUME ["/data"]
USER app
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "Sanctum.Api.dll"]
