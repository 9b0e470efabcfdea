# A small web-server AMI: the example `npm start` builds against the local emulator, and the template the
# integration test drives end to end. Upload this folder (files first, the template last) to the template
# bucket's templates/ prefix; the upload of the .pkr.hcl starts the build.

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "copy_regions" {
  type        = list(string)
  description = "Regions the finished AMI is copied to."
  default     = ["eu-west-1"]
}

variable "app_version" {
  type    = string
  default = "1.4.2"
}

locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
}

source "amazon-ebs" "web" {
  region        = var.region
  instance_type = "t3.micro"
  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["099720109477"]
    most_recent = true
  }
  ssh_username = "ubuntu"
  ami_name     = "kiln-example-web-${var.app_version}-${local.timestamp}"
  ami_regions  = var.copy_regions
  tags = {
    Name    = "kiln-example-web"
    Version = var.app_version
    Team    = "platform"
  }
}

build {
  sources = ["source.amazon-ebs.web"]

  provisioner "shell" {
    inline = [
      "echo \"provisioning $(uname -s) as $(id -un)\"",
      "mkdir -p \"/srv/site\"",
      "echo '${var.app_version}' > \"/srv/site/VERSION\"",
    ]
  }

  provisioner "file" {
    source      = "files/index.html"
    destination = "/tmp/index.html"
  }

  provisioner "shell" {
    environment_vars = ["APP_VERSION=${var.app_version}"]
    script           = "scripts/install-site.sh"
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
  }
}
