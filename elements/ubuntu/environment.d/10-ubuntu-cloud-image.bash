# The ubuntu element: where Ubuntu's cloud images are, and the cloud-init datasources its
# images ask (only Ec2 unless the user says otherwise, as DIB does).
export DIB_CLOUD_IMAGES=${DIB_CLOUD_IMAGES:-https://cloud-images.ubuntu.com/$DIB_RELEASE/current}
export DIB_CLOUD_INIT_DATASOURCES=${DIB_CLOUD_INIT_DATASOURCES:-Ec2}
