# Sanctum.Api: a framework-dependent linux-x64 build on the ASP.NET Core runtime image, run as the non-root 'app' user.
# docker build -t sanctum . && docker run -p 8080:8080 -v sanctum-data:/data sanctum
# Admin commands run on the same binary: docker exec <container> dotnet Sanctum.Api.dll --help
#
# Settings (environment; '__' separates sections, e.g. Sanctum__Backups__Directory):
#   Sanctum__DataDirectory            /data: sanctum.db, the key ring (keys/), backups/ (keep it on a volume)
#   Sanctum__BootstrapAdminPassword   the first admin's password on a fresh install (else a one-time one, see below)
#   Sanctum__TimeZone                 IANA zone job schedules are read in (default UTC), e.g. Europe/Berlin
#   Sanctum__Backups__Directory       where backups are kept (default <DataDirectory>/backups)
#   Sanctum__Backups__MaxUploadBytes  largest backup upload (default 536870912)
#   ConnectionStrings__Sanctum        a PostgreSQL connection string (Host=...) instead of SQLite in /data
#   Sanctum__KeyRingKey               on PostgreSQL: the key that encrypts the key ring (the same on every instance)
#   Sanctum__PostgresBinDirectory     on PostgreSQL: where pg_dump/pg_restore are (default: the PATH, from postgresql-client)
#   Sanctum__SessionLifetime          e.g. 1.00:00:00; Sanctum__PasswordWorkFactor (bcrypt cost, default 12)
#   ASPNETCORE_URLS                   where to listen (default http://+:8080); the healthcheck reads it (and AllowedHosts) too

# Build stage: restore on the project files first so the package layer is cached.
FROM mcr.microsoft.com/dotnet/sdk:10.0.401 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY Sanctum.Api/Sanctum.Api.csproj Sanctum.Api/
COPY Sanctum.Migrations/Sanctum.Migrations.csproj Sanctum.Migrations/
RUN dotnet restore Sanctum.Api/Sanctum.Api.csproj -r linux-x64
COPY Sanctum.Migrations/ Sanctum.Migrations/
COPY Sanctum.Api/ Sanctum.Api/
COPY wwwroot/ wwwroot/
# linux-x64 only: without -r the output carries SQLite builds for every platform (52 of 55 MB).
RUN dotnet publish Sanctum.Api/Sanctum.Api.csproj -c Release -r linux-x64 --self-contained false -o /app --no-restore

# Runtime stage: ASP.NET Core runtime only (no curl: the healthcheck is an admin command of the app itself).
FROM mcr.microsoft.com/dotnet/aspnet:10.0.12
# pg_dump and pg_restore: backups on PostgreSQL run them (they must be at least the server's major version).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /data && chown app:app /data && chmod 0700 /data
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
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["dotnet", "Sanctum.Api.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "Sanctum.Api.dll"]
